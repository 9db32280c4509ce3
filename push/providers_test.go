package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"ppprenew/push"
	"ppprenew/sim"
	"ppprenew/workflows"
)

func notification(token string) push.Notification {
	until := time.Date(2026, 11, 21, 4, 30, 0, 0, time.UTC)
	return push.Notification{
		Token: token, Title: "Parking renewal", Body: "Bay 7 ends 12:30. Reply 1 to extend.",
		Conv: "c-M1-T1", MeterID: "M1", Bay: "7", Location: "Des Voeux Rd", PaidUntil: until,
		Template: "notice", Language: "en", Link: "ppp://renew?c=c-M1-T1",
		Category: push.CategoryRenewal, Actions: push.Actions(push.CategoryRenewal, "en"),
		CollapseKey: "c-M1-T1:3:send", ExpiresAt: until, TTL: 20 * time.Minute,
	}
}

// sendOutcome names how a provider answered.
func sendOutcome(err error) string {
	var se *workflows.SendError
	switch {
	case err == nil:
		return "sent"
	case errors.Is(err, push.ErrInvalidToken):
		return "invalid_token"
	case errors.As(err, &se) && se.Temporary:
		return "temporary"
	case errors.As(err, &se):
		return "permanent"
	}
	return "other: " + err.Error()
}

func TestProvidersAgainstFakes(t *testing.T) {
	v := newEnv(t)
	providers := map[string]struct {
		p     push.Provider
		token func(string) string
	}{
		sim.ProviderFCM:  {v.fcm, fcmToken},
		sim.ProviderAPNs: {v.apns, apnsToken},
	}
	tests := []struct {
		name     string
		provider string
		given    func(token string)
		token    string // overrides the well-formed token
		expect   string
		reason   string
	}{
		{name: "fcm delivered", provider: sim.ProviderFCM, expect: "sent"},
		{name: "fcm unregistered", provider: sim.ProviderFCM, given: func(tok string) { v.sim.Invalidate(tok) }, expect: "invalid_token", reason: "UNREGISTERED"},
		{name: "fcm malformed token", provider: sim.ProviderFCM, token: "short", expect: "invalid_token", reason: "INVALID_ARGUMENT"},
		{name: "fcm 500", provider: sim.ProviderFCM, given: fault(v, sim.ProviderFCM, 500), expect: "temporary", reason: "INTERNAL"},
		{name: "fcm quota", provider: sim.ProviderFCM, given: fault(v, sim.ProviderFCM, 429), expect: "temporary", reason: "QUOTA_EXCEEDED"},
		{name: "fcm sender mismatch", provider: sim.ProviderFCM, given: fault(v, sim.ProviderFCM, 403), expect: "permanent", reason: "SENDER_ID_MISMATCH"},
		{name: "apns delivered", provider: sim.ProviderAPNs, expect: "sent"},
		{name: "apns unregistered", provider: sim.ProviderAPNs, given: func(tok string) { v.sim.Invalidate(tok) }, expect: "invalid_token", reason: "Unregistered"},
		{name: "apns bad device token", provider: sim.ProviderAPNs, token: "not-hex", expect: "invalid_token", reason: "BadDeviceToken"},
		{name: "apns 503", provider: sim.ProviderAPNs, given: fault(v, sim.ProviderAPNs, 503), expect: "temporary", reason: "ServiceUnavailable"},
		{name: "apns 429", provider: sim.ProviderAPNs, given: fault(v, sim.ProviderAPNs, 429), expect: "temporary", reason: "TooManyRequests"},
		{name: "apns bad provider token", provider: sim.ProviderAPNs, given: fault(v, sim.ProviderAPNs, 403), expect: "permanent", reason: "InvalidProviderToken"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pr := providers[tc.provider]
			tok := pr.token(fmt.Sprintf("%02d", i))
			if tc.token != "" {
				tok = tc.token
			}
			if tc.given != nil {
				tc.given(tok)
			}
			id, err := pr.p.Send(context.Background(), notification(tok))
			if got := sendOutcome(err); got != tc.expect {
				t.Fatalf("outcome %s (%v), want %s", got, err, tc.expect)
			}
			pushes := v.sim.Pushes(tok)
			if len(pushes) != 1 {
				t.Fatalf("fake recorded %d pushes for the token, want 1: %+v", len(pushes), pushes)
			}
			got := pushes[0]
			if got.Reason != tc.reason {
				t.Errorf("fake reason %q, want %q", got.Reason, tc.reason)
			}
			if tc.expect != "sent" {
				return
			}
			if id == "" || got.ID != id {
				t.Errorf("provider id %q, fake id %q", id, got.ID)
			}
			checkDelivered(t, got, tc.provider)
		})
	}
}

func fault(v *env, provider string, status int) func(string) {
	return func(string) {
		if err := v.sim.InjectPushFault(sim.PushFault{Provider: provider, Status: status}); err != nil {
			v.t.Fatal(err)
		}
	}
}

// checkDelivered checks what the device got: text, session data, buttons,
// deep link and collapse id.
func checkDelivered(t *testing.T, p sim.Push, provider string) {
	t.Helper()
	n := notification(p.Token)
	if p.Title != n.Title || p.Body != n.Body {
		t.Errorf("title/body %q/%q", p.Title, p.Body)
	}
	if p.Category != push.CategoryRenewal {
		t.Errorf("category %q, want RENEWAL", p.Category)
	}
	want := map[string]string{"conv": "c-M1-T1", "meter": "M1", "bay": "7", "location": "Des Voeux Rd",
		"paid_until": "2026-11-21T04:30:00Z", "template": "notice", "link": "ppp://renew?c=c-M1-T1"}
	for k, w := range want {
		if p.Data[k] != w {
			t.Errorf("data %s = %q, want %q", k, p.Data[k], w)
		}
	}
	var actions []push.Action
	if err := json.Unmarshal([]byte(p.Data["actions"]), &actions); err != nil {
		t.Fatalf("actions %q: %v", p.Data["actions"], err)
	}
	answers := ""
	for _, a := range actions {
		answers += a.Answer
	}
	if answers != "123" {
		t.Errorf("action answers %q, want 1, 2, 3", answers)
	}
	if p.CollapseID != n.CollapseKey {
		t.Errorf("collapse id %q, want %q", p.CollapseID, n.CollapseKey)
	}
	if provider == sim.ProviderAPNs && p.Proto != "HTTP/2.0" {
		t.Errorf("APNs request over %s, want HTTP/2.0", p.Proto)
	}
}
