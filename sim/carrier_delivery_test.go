package sim

import (
	"slices"
	"testing"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

func TestPhoneBehaviours(t *testing.T) {
	tests := []struct {
		behaviour Behaviour
		callbacks []string
		final     string
		code      int
	}{
		{BehaviourOK, []string{"sent", "delivered"}, StatusDelivered, 0},
		{BehaviourUnreachable, []string{"sent", "undelivered/30003"}, StatusUndelivered, 30003},
		{BehaviourLandline, []string{"failed/30006"}, StatusFailed, 30006},
		{BehaviourFiltered, []string{"sent", "undelivered/30007"}, StatusUndelivered, 30007},
	}
	for _, tt := range tests {
		t.Run(string(tt.behaviour), func(t *testing.T) {
			h := newHarness(t)
			var p Phone
			if st := h.control("POST", "/sim/v1/phones/"+testPhone, map[string]string{"behaviour": string(tt.behaviour)}, &p); st != 200 {
				t.Fatalf("set behaviour status %d", st)
			}
			if p.Behaviour != tt.behaviour {
				t.Fatalf("phone = %+v", p)
			}
			m, err := h.send(h.api(), testPlatform, testPhone, "hello", h.hook.srv.URL+"/status")
			if err != nil {
				t.Fatal(err)
			}
			hits := h.hook.waitHits(*m.Sid, len(tt.callbacks))
			if got := statuses(hits); !slices.Equal(got, tt.callbacks) {
				t.Fatalf("callbacks = %v, want %v", got, tt.callbacks)
			}
			for _, hh := range hits {
				if !hh.sigValid {
					t.Errorf("invalid signature on %v", hh.form)
				}
			}
			got := h.waitStatus(*m.Sid, tt.final)
			if got.ErrorCode != tt.code {
				t.Fatalf("error code = %d, want %d", got.ErrorCode, tt.code)
			}
			fetched, err := h.api().FetchMessage(*m.Sid, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.code == 0 && fetched.ErrorCode != nil {
				t.Fatalf("error_code = %v, want null", *fetched.ErrorCode)
			}
			if tt.code != 0 && (fetched.ErrorCode == nil || *fetched.ErrorCode != tt.code || fetched.ErrorMessage == nil) {
				t.Fatalf("fetched error_code = %v, want %d with a message", fetched.ErrorCode, tt.code)
			}
			var pm []PhoneMessage
			h.control("GET", "/sim/v1/phones/"+testPhone+"/messages", nil, &pm)
			if len(pm) != 1 || pm[0].Status != tt.final || pm[0].ErrorCode != tt.code || pm[0].Body != "hello" {
				t.Fatalf("phone messages = %+v", pm)
			}
		})
	}
}

func TestSetBehaviourRejectsUnknown(t *testing.T) {
	h := newHarness(t)
	if st := h.control("POST", "/sim/v1/phones/"+testPhone, map[string]string{"behaviour": "asleep"}, nil); st != 400 {
		t.Fatalf("status %d, want 400", st)
	}
	if st := h.control("POST", "/sim/v1/phones/notanumber", map[string]string{"behaviour": "ok"}, nil); st != 400 {
		t.Fatalf("status %d, want 400", st)
	}
}

// A message held in the queue past its ValidityPeriod fails with 30036 and
// is never sent; one whose validity covers the hold is delivered.
func TestValidityPeriodExpiresInQueue(t *testing.T) {
	tests := []struct {
		name      string
		validity  int
		callbacks []string
		history   []string
	}{
		{"expired", 60, []string{"failed/30036"}, []string{"queued", "failed"}},
		{"still valid", 600, []string{"sent", "delivered"}, []string{"queued", "sent", "delivered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if st := h.control("POST", "/sim/v1/faults", Fault{Kind: FaultQueueDelay, DelayMS: 120_000}, nil); st != 200 {
				t.Fatalf("arm fault: %d", st)
			}
			p := &openapi.CreateMessageParams{}
			p.SetFrom(testPlatform)
			p.SetTo(testPhone)
			p.SetBody("5 minutes left")
			p.SetStatusCallback(h.hook.srv.URL + "/status")
			p.SetValidityPeriod(tt.validity)
			m, err := h.api().CreateMessage(p)
			if err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(3 * time.Minute)
			hits := h.hook.waitHits(*m.Sid, len(tt.callbacks))
			if got := statuses(hits); !slices.Equal(got, tt.callbacks) {
				t.Fatalf("callbacks = %v, want %v", got, tt.callbacks)
			}
			rec, _ := h.carrier.Message(*m.Sid)
			var hist []string
			for _, s := range rec.History {
				hist = append(hist, s.Status)
			}
			if !slices.Equal(hist, tt.history) {
				t.Fatalf("history = %v, want %v", hist, tt.history)
			}
		})
	}
}
