package sim

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

func TestRejectFaults(t *testing.T) {
	tests := []struct {
		kind   FaultKind
		count  int
		status int
		code   int
	}{
		{FaultMessages429, 1, 429, 20429},
		{FaultMessages5xx, 2, 500, 20500},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			h := newHarness(t)
			h.control("POST", "/sim/v1/faults", Fault{Kind: tt.kind, Count: tt.count}, nil)
			for i := range tt.count {
				_, err := h.send(h.api(), testPlatform, testPhone, "x", "")
				var te *client.TwilioRestError
				if !errors.As(err, &te) || te.Status != tt.status || te.Code != tt.code {
					t.Fatalf("attempt %d: err = %v, want %d/%d", i, err, tt.status, tt.code)
				}
			}
			if _, err := h.send(h.api(), testPlatform, testPhone, "x", ""); err != nil {
				t.Fatalf("after the fault is used up: %v", err)
			}
			if n := len(h.carrier.Messages()); n != 1 {
				t.Fatalf("%d messages recorded, want only the accepted one", n)
			}
		})
	}
}

// messages_timeout: the client times out, yet the message exists and is
// delivered; it can be found by listing instead of re-posting.
func TestTimeoutFaultIsAmbiguous(t *testing.T) {
	h := newHarness(t)
	h.control("POST", "/sim/v1/faults", Fault{Kind: FaultMessagesTimeout, DelayMS: 30_000}, nil)
	since := h.clock.Now()
	_, err := h.send(h.twilioAPI(h.cfg.AccountSID, h.cfg.AuthToken, 300*time.Millisecond),
		testPlatform, testPhone, "renewed", h.hook.srv.URL+"/status")
	if err == nil {
		t.Fatal("create answered despite the timeout fault")
	}
	p := &openapi.ListMessageParams{}
	p.SetTo(testPhone)
	p.SetFrom(testPlatform)
	p.SetDateSentAfter(since)
	list, err := h.api().ListMessage(p)
	if err != nil {
		t.Fatalf("ListMessage: %v", err)
	}
	if len(list) != 1 || *list[0].Body != "renewed" {
		t.Fatalf("list = %d messages, want the one accepted before the timeout", len(list))
	}
	h.hook.waitHits(*list[0].Sid, 2)
	h.waitStatus(*list[0].Sid, StatusDelivered)
}

func TestStatusCallbackFaults(t *testing.T) {
	tests := []struct {
		kind FaultKind
		want []string
	}{
		{FaultStatusDuplicate, []string{"sent", "sent", "delivered", "delivered"}},
		{FaultStatusOutOfOrder, []string{"delivered", "sent"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			h := newHarness(t)
			h.control("POST", "/sim/v1/faults", Fault{Kind: tt.kind}, nil)
			m, err := h.send(h.api(), testPlatform, testPhone, "x", h.hook.srv.URL+"/status")
			if err != nil {
				t.Fatal(err)
			}
			hits := h.hook.waitHits(*m.Sid, len(tt.want))
			if got := statuses(hits); !slices.Equal(got, tt.want) {
				t.Fatalf("callbacks = %v, want %v", got, tt.want)
			}
			for _, hh := range hits {
				if !hh.sigValid {
					t.Fatal("invalid signature")
				}
			}
			if tt.kind == FaultStatusDuplicate &&
				hits[0].header.Get("I-Twilio-Idempotency-Token") != hits[1].header.Get("I-Twilio-Idempotency-Token") {
				t.Fatal("a redelivered callback must carry the same idempotency token")
			}
			h.waitStatus(*m.Sid, StatusDelivered)
			waitUntil(t, func() bool {
				rec, _ := h.carrier.Message(*m.Sid)
				return len(rec.Callbacks) == len(tt.want)
			})
			// The fault applies to one message only.
			m2, err := h.send(h.api(), testPlatform, testPhone, "y", h.hook.srv.URL+"/status")
			if err != nil {
				t.Fatal(err)
			}
			if got := statuses(h.hook.waitHits(*m2.Sid, 2)); !slices.Equal(got, []string{"sent", "delivered"}) {
				t.Fatalf("next message callbacks = %v", got)
			}
		})
	}
}

func TestFaultControl(t *testing.T) {
	h := newHarness(t)
	if st := h.control("POST", "/sim/v1/faults", map[string]any{"kind": "bogus"}, nil); st != 400 {
		t.Fatalf("unknown kind status %d", st)
	}
	var faults []Fault
	h.control("POST", "/sim/v1/faults", Fault{Kind: FaultMessages5xx, Count: 3}, &faults)
	if len(faults) != 1 || faults[0].Count != 3 {
		t.Fatalf("faults = %+v", faults)
	}
	if st := h.control("DELETE", "/sim/v1/faults", nil, nil); st != 204 {
		t.Fatalf("delete status %d", st)
	}
	h.control("GET", "/sim/v1/faults", nil, &faults)
	if len(faults) != 0 {
		t.Fatalf("faults after delete = %+v", faults)
	}
	if _, err := h.send(h.api(), testPlatform, testPhone, "x", ""); err != nil {
		t.Fatalf("create after clearing faults: %v", err)
	}
}

// Every Messages POST that creates a message counts for its destination,
// also when the client timed out and would post again; refused POSTs do
// not count.
func TestTextsAcceptedCountsRepeatedPosts(t *testing.T) {
	h := newHarness(t)
	const other = "+85290000077"
	h.control("POST", "/sim/v1/faults", Fault{Kind: FaultMessages5xx, Count: 1}, nil)
	if _, err := h.send(h.api(), testPlatform, testPhone, "notice", ""); err == nil {
		t.Fatal("the 5xx fault did not fire")
	}
	h.control("POST", "/sim/v1/faults", Fault{Kind: FaultMessagesTimeout, Count: 1, DelayMS: 30_000}, nil)
	if _, err := h.send(h.twilioAPI(h.cfg.AccountSID, h.cfg.AuthToken, 300*time.Millisecond), testPlatform, testPhone, "notice", ""); err == nil {
		t.Fatal("the timeout fault did not fire")
	}
	if _, err := h.send(h.api(), testPlatform, testPhone, "notice", ""); err != nil { // the repeat
		t.Fatal(err)
	}
	if _, err := h.send(h.api(), testPlatform, other, "notice", ""); err != nil {
		t.Fatal(err)
	}
	if n := h.carrier.TextsAccepted(testPhone); n != 2 {
		t.Fatalf("accepted %d texts to the phone, want 2 (a timed-out POST and its repeat)", n)
	}
	var p Phone
	h.control("GET", "/sim/v1/phones/"+other, nil, &p)
	if p.TextsAccepted != 1 {
		t.Fatalf("phone view shows %d accepted texts, want 1", p.TextsAccepted)
	}
}
