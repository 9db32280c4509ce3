package workflows_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// The runner as the channels' port: a channel may tell a conversation only
// what happened on the channel, and may change only a driver's own choices.
func TestRunnerAsConversations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var port workflows.Conversations = f.runner
	id := f.pay(t, "T1", "tok_a")

	if _, err := port.ChannelEvent(ctx, id, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: engine.AnswerOne}}); !errors.Is(err, workflows.ErrNotChannelEvent) {
		t.Fatalf("a reply as a channel event: %v, want ErrNotChannelEvent", err)
	}
	if _, err := port.ChannelEvent(ctx, id, engine.Input{Kind: engine.InputSendFailed}); !errors.Is(err, workflows.ErrNotChannelEvent) {
		t.Fatalf("a send failure without its send: %v, want ErrNotChannelEvent", err)
	}
	before, _ := port.Conversation(ctx, id)
	after, err := port.ChannelEvent(ctx, id, engine.Input{Kind: engine.InputCallMenu})
	if err != nil || after.Version != before.Version+1 {
		t.Fatalf("call menu: v%d -> v%d, %v; want one step", before.Version, after.Version, err)
	}
	if ids, err := port.OpenConversations(ctx, "+85291234567"); err != nil || !slices.Equal(ids, []string{id}) {
		t.Fatalf("open conversations %v %v", ids, err)
	}
	if st, err := port.OpenAtBay(ctx, "7", func(m string) bool { return m == "M1" }); err != nil || st.ID != id {
		t.Fatalf("open at bay: %s %v", st.ID, err)
	}
	if _, err := port.OpenAtBay(ctx, "8", func(string) bool { return true }); !errors.Is(err, workflows.ErrNotFound) {
		t.Fatalf("open at an empty bay: %v, want ErrNotFound", err)
	}

	// A reply under a condition that fails changes nothing.
	st, _, err := port.ReplyTo(ctx, id, engine.AnswerOne, engine.ChannelApp, func(engine.State) bool { return false })
	if !errors.Is(err, workflows.ErrPrecondition) || st.Version != after.Version {
		t.Fatalf("conditional reply: v%d %v, want ErrPrecondition at v%d", st.Version, err, after.Version)
	}

	u, err := port.UpdatePreferences(ctx, "u-1", func(u *engine.User) {
		u.Language, u.LeadTime = "zh-CN", 15*time.Minute
		u.Phone, u.CardToken, u.PINHash = "+85290000000", "tok_z", "x"
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := port.Driver(ctx, "u-1")
	if err != nil || stored.Language != "zh-CN" || stored.LeadTime != 15*time.Minute || stored.Phone != "+85291234567" || stored.CardToken != "tok_a" || stored.PINHash != "" || u.Phone != stored.Phone {
		t.Fatalf("after preferences %+v (%v), want only language and lead time changed", stored, err)
	}
	if byPhone, err := port.DriverByPhone(ctx, "+85291234567"); err != nil || byPhone.ID != "u-1" {
		t.Fatalf("driver by phone %+v %v", byPhone, err)
	}
	if _, err := port.UpdatePreferences(ctx, "u-404", func(*engine.User) {}); !errors.Is(err, workflows.ErrNotFound) {
		t.Fatalf("preferences of nobody: %v, want ErrNotFound", err)
	}
}
