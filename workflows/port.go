package workflows

import (
	"context"
	"errors"
	"fmt"

	"ppprenew/workflows/engine"
)

// Conversations is what a channel adapter (ivr, push) needs of the
// conversation: answer one, tell it what happened on the channel, read it,
// and know its driver. It is the one way in for a channel; the store and
// the registry behind it stay the runner's. *Runner implements it.
type Conversations interface {
	// ReplyTo applies a driver's answer on channel to conversation id (a
	// call or the app knows which one it is about) and returns its new state
	// and the messages to say inline in the call or the app's answer. When
	// cond is not nil it must hold for the very version that is stepped:
	// otherwise nothing changes and the conversation is returned as it is,
	// with ErrPrecondition.
	ReplyTo(ctx context.Context, id string, a engine.Answer, channel string, cond func(engine.State) bool) (engine.State, []engine.Effect, error)
	// ChannelEvent tells conversation id what happened on a channel: a call
	// the driver answered ended, a message could not be delivered, a call
	// offered the menu. Any other input is refused with ErrNotChannelEvent.
	ChannelEvent(ctx context.Context, id string, ev engine.Input) (engine.State, error)
	// Conversation loads a conversation as it stands (ErrNotFound).
	Conversation(ctx context.Context, id string) (engine.State, error)
	// OpenConversations lists a phone's open conversations, most recently
	// prompted first.
	OpenConversations(ctx context.Context, phone string) ([]string, error)
	// OpenAtBay finds the open conversation at bay whose meter id meter
	// accepts, among the most recent ones (ErrNotFound when none).
	OpenAtBay(ctx context.Context, bay string, meter func(meterID string) bool) (engine.State, error)
	// Driver loads a registered driver by user id (ErrNotFound).
	Driver(ctx context.Context, id string) (engine.User, error)
	// DriverByPhone finds the driver registered with an E.164 phone
	// (ErrNotFound).
	DriverByPhone(ctx context.Context, phone string) (engine.User, error)
	// UpdatePreferences changes a registered driver's own choices (language,
	// channels, lead time, calls in quiet hours) with change and returns the
	// driver as saved. Whatever else change touches is kept as it was.
	UpdatePreferences(ctx context.Context, id string, change func(*engine.User)) (engine.User, error)
}

var _ Conversations = (*Runner)(nil)

// ErrNotChannelEvent means a channel offered an input that only the
// conversation's own tasks or the device link may apply.
var ErrNotChannelEvent = errors.New("not a channel event")

// channelEvents are the inputs a channel may apply with ChannelEvent.
var channelEvents = map[engine.InputKind]bool{
	engine.InputCallEnded: true, engine.InputSendFailed: true, engine.InputCallMenu: true,
}

// openAtBayScan bounds how many recent conversations OpenAtBay looks at.
const openAtBayScan = 1000

// ReplyTo implements Conversations.
func (r *Runner) ReplyTo(ctx context.Context, id string, a engine.Answer, channel string, cond func(engine.State) bool) (engine.State, []engine.Effect, error) {
	return r.applyIf(ctx, id, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: a, Channel: channel}}, cond)
}

// ChannelEvent implements Conversations.
func (r *Runner) ChannelEvent(ctx context.Context, id string, ev engine.Input) (engine.State, error) {
	if !channelEvents[ev.Kind] || (ev.Kind == engine.InputSendFailed && ev.Send == nil) {
		return engine.State{}, fmt.Errorf("conversation %s: input %q: %w", id, ev.Kind, ErrNotChannelEvent)
	}
	return r.Apply(ctx, id, engine.Input{Kind: ev.Kind, Send: ev.Send})
}

// Conversation implements Conversations.
func (r *Runner) Conversation(ctx context.Context, id string) (engine.State, error) {
	return r.Store.Get(ctx, id)
}

// OpenConversations implements Conversations.
func (r *Runner) OpenConversations(ctx context.Context, phone string) ([]string, error) {
	return r.Store.OpenForPhone(ctx, phone)
}

// OpenAtBay implements Conversations.
func (r *Runner) OpenAtBay(ctx context.Context, bay string, meter func(meterID string) bool) (engine.State, error) {
	ids, err := r.Store.Recent(ctx, openAtBayScan)
	if err != nil {
		return engine.State{}, err
	}
	for _, id := range ids {
		st, err := r.Store.Get(ctx, id)
		if err != nil {
			continue
		}
		if !st.Phase.Terminal() && st.Bay == bay && meter(st.MeterID) {
			return st, nil
		}
	}
	return engine.State{}, fmt.Errorf("open conversation at bay %s: %w", bay, ErrNotFound)
}

// Driver implements Conversations.
func (r *Runner) Driver(ctx context.Context, id string) (engine.User, error) {
	return r.Registry.User(ctx, id)
}

// DriverByPhone implements Conversations.
func (r *Runner) DriverByPhone(ctx context.Context, phone string) (engine.User, error) {
	return r.Registry.UserByPhone(ctx, phone)
}

// UpdatePreferences implements Conversations.
func (r *Runner) UpdatePreferences(ctx context.Context, id string, change func(*engine.User)) (engine.User, error) {
	u, err := r.Registry.User(ctx, id)
	if err != nil {
		return engine.User{}, err
	}
	next := u
	change(&next)
	u.Language, u.Channel, u.Channels = next.Language, next.Channel, next.Channels
	u.LeadTime, u.CallsInQuietHours = next.LeadTime, next.CallsInQuietHours
	if err := r.Registry.UpdateUser(ctx, u); err != nil {
		return engine.User{}, err
	}
	return u, nil
}

// Texts is what the SMS channel needs of the conversation: route an
// inbound text and answer it, opt a phone out and in, answer outside any
// conversation, report a text that was not delivered, and read the
// opt-out. *Runner implements it.
type Texts interface {
	// Route routes a text from phone in one round trip, setting claim as
	// its idempotency key (Route.Fresh is false for a duplicate).
	Route(ctx context.Context, phone string, claim Claim) (Route, error)
	// Unclaim forgets a claim so the carrier's retry is processed.
	Unclaim(ctx context.Context, claim Claim) error
	// ReplyRouted answers the conversation a Route found (ErrNoSession
	// when none).
	ReplyRouted(ctx context.Context, rt Route, a engine.Answer, channel string) (engine.State, error)
	// ChannelEvent tells a conversation what happened to one of its texts.
	ChannelEvent(ctx context.Context, id string, ev engine.Input) (engine.State, error)
	// OptOut records a phone's STOP and ends its open conversations.
	OptOut(ctx context.Context, phone string) error
	// OptIn records a phone's START and brings back the stays still paid.
	OptIn(ctx context.Context, phone string) (int, error)
	// OptedOut reports whether a phone sent STOP.
	OptedOut(ctx context.Context, phone string) (bool, error)
	// Notify sends a text that belongs to no conversation (help, no
	// session, opted in), once per key.
	Notify(ctx context.Context, key, phone, language, template string) error
	// DriverByPhone finds the driver registered with a phone (ErrNotFound).
	DriverByPhone(ctx context.Context, phone string) (engine.User, error)
}

var _ Texts = (*Runner)(nil)

// Unclaim implements Texts.
func (r *Runner) Unclaim(ctx context.Context, claim Claim) error { return r.Store.Unclaim(ctx, claim) }

// OptedOut implements Texts.
func (r *Runner) OptedOut(ctx context.Context, phone string) (bool, error) {
	return r.Registry.OptedOut(ctx, phone)
}
