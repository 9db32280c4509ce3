package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"ppprenew/workflows/engine"
)

// ErrNoSession means a reply came from a phone with no open conversation.
var ErrNoSession = errors.New("no active parking session")

// EffectQueue carries effects out durably: the outbox (Outbox), and the
// task queue the outbox is dispatched to (TaskQueue, asynq).
type EffectQueue interface {
	Enqueue(ctx context.Context, convID string, effects []engine.Effect) error
}

// Runner applies inputs to conversations: load with the driver's facts,
// Step, then commit state, history and effects (into the outbox) in one
// script with a version check. It is the only writer of conversations.
type Runner struct {
	Settings *engine.Settings
	Store    *Store
	Registry *Registry
	Now      func() time.Time
	Log      *slog.Logger
}

// maxConflicts bounds optimistic-concurrency retries of one input.
const maxConflicts = 16

// Apply feeds one input to a conversation and returns its new state.
func (r *Runner) Apply(ctx context.Context, id string, in engine.Input) (engine.State, error) {
	st, _, err := r.ApplyInline(ctx, id, in)
	return st, err
}

// ApplyInline is Apply for a keypad reply in a call: it also returns the
// messages to speak in the call's answer, which are not enqueued.
func (r *Runner) ApplyInline(ctx context.Context, id string, in engine.Input) (engine.State, []engine.Effect, error) {
	return r.applyIf(ctx, id, in, nil)
}

// applyIf applies in only if cond (when not nil) holds for the very version
// of the conversation that is stepped and committed; otherwise it returns
// that state and ErrPrecondition, and nothing changes.
func (r *Runner) applyIf(ctx context.Context, id string, in engine.Input, cond func(engine.State) bool) (engine.State, []engine.Effect, error) {
	return r.applyRouted(ctx, Route{Conv: id}, in, cond)
}

// applyRouted is applyIf for a conversation whose driver and card may be
// known already (rt), so its state and the driver's facts load in one round
// trip; otherwise the first attempt reads the state and then the facts.
// The commit is the only other round trip.
func (r *Runner) applyRouted(ctx context.Context, rt Route, in engine.Input, cond func(engine.State) bool) (engine.State, []engine.Effect, error) {
	id := rt.Conv
	for range maxConflicts {
		var st engine.State
		var err error
		if rt.known {
			st, in.Facts, err = r.Store.loadWithFacts(ctx, id, rt.userID, rt.Phone, rt.card)
		} else if st, err = r.Store.Get(ctx, id); err == nil {
			in.Facts, err = r.Registry.Facts(ctx, st.UserID, st.Phone, st.CardToken)
		}
		if err != nil {
			return engine.State{}, nil, err
		}
		if st.UserID != rt.userID || st.Phone != rt.Phone || st.CardToken != rt.card {
			// The index was wrong or unknown: read the facts of the
			// conversation's own driver (and next time load them together).
			if rt.known {
				if in.Facts, err = r.Registry.Facts(ctx, st.UserID, st.Phone, st.CardToken); err != nil {
					return engine.State{}, nil, err
				}
			}
			rt = Route{Conv: id, Phone: st.Phone, userID: st.UserID, card: st.CardToken, known: true}
		}
		if cond != nil && !cond(st) {
			return st, nil, ErrPrecondition
		}
		next, effects := engine.Step(r.Settings, st, in, r.Now())
		if next.Version == st.Version {
			r.Log.DebugContext(ctx, "input changed nothing", "conv", id, "input", engine.DescribeInput(in, r.Settings.Location()), "phase", st.Phase)
			return st, nil, nil
		}
		err = r.Store.Save(ctx, next, st.Version, r.history(st.Phase, next, in, effects), durable(effects))
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return engine.State{}, nil, err
		}
		r.Log.DebugContext(ctx, "conversation stepped", "conv", id, "input", engine.DescribeInput(in, r.Settings.Location()), "from", st.Phase, "to", next.Phase, "effects", len(effects))
		return next, inline(effects), nil
	}
	return engine.State{}, nil, fmt.Errorf("conversation %s: %w after %d attempts", id, ErrConflict, maxConflicts)
}

// durable are the effects carried out by tasks; inline are spoken in the
// current call.
func durable(effects []engine.Effect) []engine.Effect {
	var out []engine.Effect
	for _, e := range effects {
		if (e.Send == nil || !e.Send.Inline) && e.Note == nil {
			out = append(out, e)
		}
	}
	return out
}

func inline(effects []engine.Effect) []engine.Effect {
	var out []engine.Effect
	for _, e := range effects {
		if e.Send != nil && e.Send.Inline {
			out = append(out, e)
		}
	}
	return out
}

// RecordPayment handles a meter transaction. Any payment at a bay by another
// card, registered or not, first supersedes the conversation open there: the
// bay now belongs to the next payer, so the first driver can no longer renew
// it. A payment by a registered card then opens a conversation; the same card
// paying again at its bay extends its conversation. It is idempotent per
// transaction.
func (r *Runner) RecordPayment(ctx context.Context, p engine.PaymentInput) (string, error) {
	id := engine.ConversationID(p.MeterID, p.TxnID)
	if _, err := r.Store.Get(ctx, id); err == nil {
		return id, nil // uploaded again
	} else if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if cur, err := r.Store.AtBay(ctx, p.MeterID, p.Bay); err == nil && cur != id {
		st, err := r.Store.Get(ctx, cur)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		switch {
		case err != nil || st.Phase.Terminal():
		case slices.Contains(st.Payments, p.TxnID):
			return cur, nil // a top-up uploaded again
		case st.CardToken == p.CardToken:
			_, err := r.Apply(ctx, cur, engine.Input{Kind: engine.InputPayment, Payment: &p})
			return cur, err
		case p.PaidAt.Before(st.StayStart):
			// A late upload of a payment made before this driver's: it
			// does not take the bay from them.
			r.Log.InfoContext(ctx, "earlier payment at a bay uploaded late", "meter", p.MeterID, "bay", p.Bay, "txn", p.TxnID, "conv", cur)
		default:
			if _, err := r.Apply(ctx, cur, engine.Input{Kind: engine.InputSuperseded}); err != nil {
				return "", err
			}
		}
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	u, err := r.Registry.UserByCard(ctx, p.CardToken)
	if errors.Is(err, ErrNotFound) {
		r.Log.InfoContext(ctx, "payment by an unregistered card", "meter", p.MeterID, "bay", p.Bay, "txn", p.TxnID)
		return "", nil
	}
	if err != nil {
		return "", err
	}
	facts, err := r.Registry.Facts(ctx, u.ID, u.Phone, u.CardToken)
	if err != nil {
		return "", err
	}
	st, effects := engine.Open(r.Settings, u, p, facts, r.Now())
	in := engine.Input{Kind: engine.InputPayment, Payment: &p, Facts: facts}
	err = r.Store.Save(ctx, st, 0, r.history("", st, in, effects), durable(effects))
	if errors.Is(err, ErrConflict) {
		return id, nil // opened concurrently by the same upload
	}
	if err != nil {
		return "", err
	}
	r.Log.InfoContext(ctx, "conversation opened", "conv", id, "meter", p.MeterID, "bay", p.Bay, "phase", st.Phase)
	return id, nil
}

// Reply routes a driver's answer to their most recently prompted open
// conversation. It returns ErrNoSession when there is none.
func (r *Runner) Reply(ctx context.Context, phone string, a engine.Answer, channel string) (engine.State, error) {
	rt, err := r.Store.Route(ctx, phone, Claim{})
	if err != nil {
		return engine.State{}, err
	}
	return r.ReplyRouted(ctx, rt, a, channel)
}

// Route routes a reply from a phone in one round trip (see Store.Route),
// setting claim as the reply's idempotency key in the same trip.
func (r *Runner) Route(ctx context.Context, phone string, claim Claim) (Route, error) {
	return r.Store.Route(ctx, phone, claim)
}

// ReplyRouted answers the conversation rt found, loading it with the
// driver's facts in one round trip and committing in a second. It returns
// ErrNoSession when rt found none.
func (r *Runner) ReplyRouted(ctx context.Context, rt Route, a engine.Answer, channel string) (engine.State, error) {
	if rt.Conv == "" {
		return engine.State{}, ErrNoSession
	}
	st, _, err := r.applyRouted(ctx, rt, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: a, Channel: channel}}, nil)
	if errors.Is(err, ErrNotFound) {
		return engine.State{}, ErrNoSession // ended and expired since it was routed
	}
	return st, err
}

// OptOut records a phone's STOP and ends its open conversations; OptIn
// brings back those still paid.
func (r *Runner) OptOut(ctx context.Context, phone string) error {
	if err := r.Registry.SetOptOut(ctx, phone, true); err != nil {
		return err
	}
	ids, err := r.Store.OpenForPhone(ctx, phone)
	if err != nil {
		return err
	}
	if err := r.Store.markStopped(ctx, phone, ids); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := r.Apply(ctx, id, engine.Input{Kind: engine.InputOptOut}); err != nil {
			return err
		}
	}
	return nil
}

// Notify sends a message that belongs to no conversation (help, no active
// session, opted in). key makes it idempotent, for example the inbound
// message id it answers.
func (r *Runner) Notify(ctx context.Context, key, phone, language, template string) error {
	d := engine.MessageData{Operator: r.Settings.Operator, HelpContact: r.Settings.HelpContact}
	body, err := r.Settings.Render(language, template, d)
	if err != nil {
		return err
	}
	return r.Store.Outbox().Enqueue(ctx, "", []engine.Effect{{ID: "notify:" + key + ":" + template, Kind: engine.EffectSend, Send: &engine.Send{
		Channel: "sms", To: phone, Language: r.Settings.Language(language), Template: template, Body: body,
		ValidUntil: r.Now().Add(r.Settings.LeadTime),
	}}})
}

// ErrPrecondition means a conditional input was not applied because the
// conversation was not as the caller required.
var ErrPrecondition = errors.New("conversation is not as required")

// ReplyOnIf is ReplyOn applied only while cond holds for the conversation:
// the check and the step see the same version, so a driver confirming the
// quote they were shown never confirms one that changed meanwhile. When cond
// fails it returns the conversation as it is and ErrPrecondition.
func (r *Runner) ReplyOnIf(ctx context.Context, id string, a engine.Answer, channel string, cond func(engine.State) bool) (engine.State, []engine.Effect, error) {
	return r.applyIf(ctx, id, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: a, Channel: channel}}, cond)
}

// ReplyOn answers a specific conversation (a call knows which one it is
// about) and returns the messages to speak inline.
func (r *Runner) ReplyOn(ctx context.Context, id string, a engine.Answer, channel string) (engine.State, []engine.Effect, error) {
	return r.ApplyInline(ctx, id, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: a, Channel: channel}})
}

func (r *Runner) history(from engine.Phase, st engine.State, in engine.Input, effects []engine.Effect) HistoryEntry {
	h := HistoryEntry{At: r.Now(), Version: st.Version, Input: engine.DescribeInput(in, r.Settings.Location()), From: from, To: st.Phase}
	for _, e := range effects {
		h.Effects = append(h.Effects, engine.DescribeEffect(e, r.Settings.Location()))
	}
	return h
}
