package workflowstest

import (
	"context"
	"fmt"
	"sync"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// Conversations is a hand-written workflows.Conversations for channel
// tests: it holds conversations and drivers in memory, answers every reply
// with Reply and Spoken, and records each call made to it (phones masked).
type Conversations struct {
	mu    sync.Mutex
	Convs map[string]engine.State
	Users map[string]engine.User
	// Open lists a phone's open conversations, most recently prompted first.
	Open map[string][]string
	// Reply and Spoken are what ReplyTo answers: the new state and the
	// messages to say inline.
	Reply  engine.State
	Spoken []engine.Effect
	// Events are the channel events applied, in order.
	Events []engine.Input
	calls  []string
}

var _ workflows.Conversations = (*Conversations)(nil)

// NewConversations returns an empty fake.
func NewConversations() *Conversations {
	return &Conversations{Convs: map[string]engine.State{}, Users: map[string]engine.User{}, Open: map[string][]string{}}
}

func (f *Conversations) record(format string, a ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

// TakeCalls returns the calls recorded since the last TakeCalls.
func (f *Conversations) TakeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// ReplyTo implements workflows.Conversations.
func (f *Conversations) ReplyTo(_ context.Context, id string, a engine.Answer, channel string, cond func(engine.State) bool) (engine.State, []engine.Effect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ReplyTo %s %s %s cond=%t", id, a, channel, cond != nil)
	st, ok := f.Convs[id]
	if !ok {
		return engine.State{}, nil, workflows.ErrNotFound
	}
	if cond != nil && !cond(st) {
		return st, nil, workflows.ErrPrecondition
	}
	f.Convs[id] = f.Reply
	return f.Reply, f.Spoken, nil
}

// ChannelEvent implements workflows.Conversations.
func (f *Conversations) ChannelEvent(_ context.Context, id string, ev engine.Input) (engine.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ChannelEvent %s %s", id, ev.Kind)
	f.Events = append(f.Events, ev)
	return f.Convs[id], nil
}

// Conversation implements workflows.Conversations.
func (f *Conversations) Conversation(_ context.Context, id string) (engine.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Conversation %s", id)
	st, ok := f.Convs[id]
	if !ok {
		return engine.State{}, workflows.ErrNotFound
	}
	return st, nil
}

// OpenConversations implements workflows.Conversations.
func (f *Conversations) OpenConversations(_ context.Context, phone string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("OpenConversations %s", engine.MaskPhone(phone))
	return f.Open[phone], nil
}

// OpenAtBay implements workflows.Conversations.
func (f *Conversations) OpenAtBay(_ context.Context, bay string, meter func(string) bool) (engine.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("OpenAtBay %s", bay)
	for _, st := range f.Convs {
		if st.Bay == bay && meter(st.MeterID) && !st.Phase.Terminal() {
			return st, nil
		}
	}
	return engine.State{}, workflows.ErrNotFound
}

// Driver implements workflows.Conversations.
func (f *Conversations) Driver(_ context.Context, id string) (engine.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Driver %s", id)
	u, ok := f.Users[id]
	if !ok {
		return engine.User{}, workflows.ErrNotFound
	}
	return u, nil
}

// DriverByPhone implements workflows.Conversations.
func (f *Conversations) DriverByPhone(_ context.Context, phone string) (engine.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("DriverByPhone %s", engine.MaskPhone(phone))
	for _, u := range f.Users {
		if u.Phone == phone {
			return u, nil
		}
	}
	return engine.User{}, workflows.ErrNotFound
}

// UpdatePreferences implements workflows.Conversations.
func (f *Conversations) UpdatePreferences(_ context.Context, id string, change func(*engine.User)) (engine.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("UpdatePreferences %s", id)
	u, ok := f.Users[id]
	if !ok {
		return engine.User{}, workflows.ErrNotFound
	}
	change(&u)
	f.Users[id] = u
	return u, nil
}
