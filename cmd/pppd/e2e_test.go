package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

const (
	alice = "+85291230001"
	bob   = "+85291230002"
)

// renew runs the option-1 path from the expiry SMS to the confirmation and
// returns the confirmation text.
func (h *harness) renew(phone string, first int) string {
	h.expect(phone, first, "Reply 1 to extend")
	h.text(phone, "1", false)
	h.expect(phone, first+1, "Reply 1 to confirm")
	h.text(phone, "1", false)
	return h.expect(phone, first+2, "Renewed")
}

func TestOption1ExtendNow(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	before := h.bayPaidUntil("M1", "1")
	confirmation := h.renew(alice, 1)
	if !strings.Contains(confirmation, "HKD 10.00 charged to card ending 4242") {
		t.Fatalf("confirmation %q", confirmation)
	}
	if ch := h.succeededCharges(); len(ch) != 1 || ch[0].AmountMinor != 1000 {
		t.Fatalf("charges %+v, want one of HKD 10.00", ch)
	}
	h.settle(time.Time{}, "M1")
	h.exactlyOnce(card, "M1")
	if got := h.bayPaidUntil("M1", "1"); !got.Equal(before.Add(30 * time.Minute)) {
		t.Fatalf("meter paid until %s, want %s", got, before.Add(30*time.Minute))
	}
	st, hist := h.conv(alice)
	if st.Phase != engine.PhaseParked || len(st.Renewals) != 1 || st.Renewals[0].MeterAck != "acked" {
		t.Fatalf("state %s renewals %+v", st.Phase, st.Renewals)
	}
	var steps []string
	for _, e := range hist {
		steps = append(steps, string(e.To))
	}
	if got := strings.Join(steps, ","); got != "parked,offered,quoted,charging,renewing,parked" {
		t.Fatalf("history phases %s", got)
	}
}

func TestOption2AlertBeforeGraceEndsThenRenew(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 6*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "2", false)
	h.expect(alice, 2, "We will text you at")
	h.expect(alice, 3, "grace period at bay 1 ends") // the alert, with the offer again
	h.text(alice, "1", false)
	h.expect(alice, 4, "Reply 1 to confirm")
	h.text(alice, "YES", false)
	h.expect(alice, 5, "Renewed")
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
}

func TestOption3AppLinkThenStayEnds(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "zh-HK", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 6*time.Second)
	h.expect(alice, 1, "回覆1")
	h.text(alice, "三", false)
	link := h.expect(alice, 2, "https://app.ppp.example/renew?c=")
	if !strings.Contains(link, "請用App") {
		t.Fatalf("app link not in Traditional Chinese: %q", link)
	}
	h.expect(alice, 3, "停泊已結束") // the grace period ends with no renewal
	h.phase(alice, engine.PhaseEnded)
	h.text(alice, "1", false) // a reply after the session ended
	h.expect(alice, 4, "你沒有進行中的停泊")
	if n := len(h.succeededCharges()); n != 0 {
		t.Fatalf("%d charges, want none", n)
	}
}

func TestDeclinedCardThenRetrySucceeds(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	if s := h.simctl("PATCH", "/cards/"+card, map[string]any{"decline_next": 1}, nil); s != 200 {
		t.Fatalf("patch card: %d", s)
	}
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Reply 1 to confirm")
	h.text(alice, "1", false)
	h.expect(alice, 3, "was declined; nothing was charged")
	if n := len(h.succeededCharges()); n != 0 {
		t.Fatalf("%d charges after a decline", n)
	}
	h.text(alice, "1", false)
	h.expect(alice, 4, "Reply 1 to confirm")
	h.text(alice, "1", false)
	h.expect(alice, 5, "Renewed")
	h.settle(time.Time{}, "M1")
	if n := h.chargePOSTs(card); n != 2 {
		t.Fatalf("the gateway received %d charge requests, want the declined one and the retry", n)
	}
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges, want 1", n)
	}
}

func TestInsufficientPrepaidBalance(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "prepaid", 500)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "HKD 10.00")
	h.text(alice, "1", false)
	h.expect(alice, 3, "has too little balance")
	var c sim.Card
	h.simctl("GET", "/cards/"+card, nil, &c)
	if c.BalanceMinor != 500 {
		t.Fatalf("balance %d, want it untouched", c.BalanceMinor)
	}
}

func TestNextDriverSupersedesPendingRenewal(t *testing.T) {
	h := newHarness(t)
	a := h.driver(alice, "en", "credit", 10000)
	b := h.driver(bob, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", a, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Reply 1 to confirm")
	h.tap("M1", "1", b, 20*time.Minute) // Bob parks in the bay
	h.expect(alice, 3, "Another payment was made at bay 1")
	h.text(alice, "1", false) // Alice confirms too late
	h.expect(alice, 4, "no active parking session")
	if n := len(h.succeededCharges()); n != 0 {
		t.Fatalf("%d charges, want none", n)
	}
	st, _ := h.conv(bob)
	if st.Phase != engine.PhaseParked {
		t.Fatalf("Bob's conversation %s", st.Phase)
	}
}

func TestBlacklistedCardIsRefused(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	if s := h.admin("POST", "/blacklist", map[string]any{"kind": "card", "value": card, "reason": "reported stolen"}, nil); s != 204 {
		t.Fatalf("blacklist: %d", s)
	}
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Renewal by phone is not available for card ending 4242")
	h.phase(alice, engine.PhaseRefused)
}

func TestBlacklistedPhoneIsRefusedMidConversation(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.admin("POST", "/blacklist", map[string]any{"kind": "phone", "value": alice, "reason": "bad debt"}, nil)
	h.text(alice, "1", false)
	h.expect(alice, 2, "not available for this number")
	if n := len(h.succeededCharges()); n != 0 {
		t.Fatalf("%d charges", n)
	}
}

func TestMaximumStayCapsThenRefuses(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "short") // maximum stay 40 s
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	capped := h.expect(alice, 2, "The maximum stay is 40s")
	if !strings.Contains(capped, "(0 min)") && !strings.Contains(capped, "HKD 0.") {
		t.Fatalf("capped quote %q does not show the short extension", capped)
	}
	h.text(alice, "1", false)
	h.expect(alice, 3, "Renewed")
	st, _ := h.conv(alice)
	if got := st.PaidUntil.Sub(st.StayStart); got != 40*time.Second {
		t.Fatalf("stay is %s, want exactly the 40s maximum", got)
	}
	h.expect(alice, 4, "maximum stay of 40s is reached, so it cannot be extended")
}

func TestDebitCardIsExplained(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "debit", 0)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Debit cards cannot be charged remotely")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Debit cards cannot be charged remotely")
	if n := len(h.world.Gateway.Charges()); n != 0 {
		t.Fatalf("%d charge attempts on a debit card", n)
	}
}

func TestStopMidConversation(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 6*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "STOP", false)
	h.phase(alice, engine.PhaseOptedOut)
	h.text(alice, "1", false)
	// The grace period passes with no further message.
	st, _ := h.conv(alice)
	h.eventually("the grace period to pass", func() bool { return time.Now().After(st.PaidUntil.Add(5 * time.Second)) })
	if msgs := h.inbox(alice); len(msgs) != 1 {
		t.Fatalf("after STOP the phone received %s", bodies(msgs))
	}
	// A new stay: the platform does not text an opted-out phone; the expiry
	// notice still reaches the driver, on the next channel (a call).
	h.script(alice, sim.VoiceScript{Answer: "busy"})
	h.tap("M1", "2", card, 8*time.Second)
	h.eventually("the new stay's notice to fall due", func() bool {
		s, _ := h.conv(alice)
		return s.Bay == "2" && s.Phase == engine.PhaseOffered
	})
	if c := h.ended(alice, 1); c.To != alice {
		t.Fatalf("the notice call went to %s", c.To)
	}
	if msgs := h.inbox(alice); len(msgs) != 1 {
		t.Fatalf("an opted-out phone received %s", bodies(msgs))
	}
}

func TestDuplicatedWebhooksAndRestartedWorkerChargeOnce(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	if r := h.text(alice, "1", true); r.Deliveries != 2 {
		t.Fatalf("the carrier delivered the webhook %d times, want 2", r.Deliveries)
	}
	h.expect(alice, 2, "Reply 1 to confirm")
	h.app.StopWorker() // the worker dies between the confirmation and the charge
	h.text(alice, "1", true)
	h.phase(alice, engine.PhaseCharging)
	if n := h.chargePOSTs(card); n != 0 {
		t.Fatalf("%d charge requests while the worker was down", n)
	}
	if err := h.app.StartWorker(); err != nil {
		t.Fatal(err)
	}
	h.expect(alice, 3, "Renewed")
	h.settle(time.Time{}, "M1") // a stray duplicate would still be queued or running
	h.exactlyOnce(card, "M1")
	if n := h.textsAccepted(alice); n != 3 {
		t.Fatalf("the carrier accepted %d texts, want exactly notice, quote, confirmation", n)
	}
	if msgs := h.inbox(alice); len(msgs) != 3 {
		t.Fatalf("messages %s, want exactly notice, quote, confirmation", bodies(msgs))
	}
}

func TestGatewayTimeoutIsResolvedByLookupNotRecharge(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	// The gateway records the charge but answers after the client's timeout.
	h.simctl("PATCH", "/cards/"+card, map[string]any{"slow_next": map[string]any{"count": 1, "delay_ms": 7000}}, nil)
	h.tap("M1", "1", card, 8*time.Second)
	h.renew(alice, 1)
	h.settle(time.Time{}, "M1")
	h.exactlyOnce(card, "M1") // resolved by a lookup: one charge request, not a second POST
}

func TestCarrierTimeoutDoesNotSendTwice(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	// The carrier accepts the expiry notice but answers after twilio-go gives up.
	h.simctl("POST", "/faults", map[string]any{"kind": "messages_timeout", "count": 1, "delay_ms": 12000}, nil)
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.settle(time.Time{}) // the timed-out send and its retry are done
	if n := h.textsAccepted(alice); n != 1 {
		t.Fatalf("the carrier accepted the notice %d times, want once", n)
	}
	if msgs := h.inbox(alice); len(msgs) != 1 {
		t.Fatalf("the notice arrived %d times: %s", len(msgs), bodies(msgs))
	}
}

func TestForgedWebhookIsRefusedAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	before, _ := h.conv(alice)
	form := url.Values{"MessageSid": {"SMforged"}, "From": {alice}, "To": {"+85258001000"}, "Body": {"1"}, "AccountSid": {h.app.cfg.AccountSID}}
	for name, sig := range map[string]string{
		"wrong token":   sim.Sign("not-the-token", h.app.cfg.PublicURL+"/twilio/sms", form),
		"wrong url":     sim.Sign(h.app.cfg.AuthToken, "https://elsewhere.example/twilio/sms", form),
		"missing":       "",
		"tampered body": sim.Sign(h.app.cfg.AuthToken, h.app.cfg.PublicURL+"/twilio/sms", url.Values{"Body": {"2"}}),
	} {
		req, _ := http.NewRequest("POST", h.app.ServerURL()+"/twilio/sms", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: status %d, want 403", name, res.StatusCode)
		}
	}
	after, hist := h.conv(alice)
	if after.Version != before.Version || after.Phase != engine.PhaseOffered {
		t.Fatalf("forged webhooks changed the conversation: v%d %s -> v%d %s (%d history entries)", before.Version, before.Phase, after.Version, after.Phase, len(hist))
	}
	var metrics strings.Builder
	res, _ := http.Get(h.app.ServerURL() + "/metrics")
	buf := make([]byte, 1<<20)
	n, _ := res.Body.Read(buf)
	res.Body.Close()
	metrics.Write(buf[:n])
	if !strings.Contains(metrics.String(), "ppp_webhook_rejected_total") {
		t.Fatal("refusals are not counted in /metrics")
	}
}

func TestMeterSilentConfirmsCentralRecordAndAlertsOperator(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Reply 1 to confirm")
	// The meter loses its radio: it stops exchanging with the platform.
	if s := h.simctl("POST", "/meters/M1/faults", map[string]any{"drop_sends": 1000}, nil); s != 200 {
		t.Fatalf("meter fault: %d", s)
	}
	h.text(alice, "1", false)
	h.expect(alice, 3, "The meter display may not show it yet; enforcement uses our record")
	var alerts struct {
		Alerts []workflows.Alert `json:"alerts"`
	}
	h.eventually("an operator alert", func() bool {
		h.admin("GET", "/alerts", nil, &alerts)
		return len(alerts.Alerts) == 1
	})
	if alerts.Alerts[0].Code != "meter_unreachable" {
		t.Fatalf("alert %+v", alerts.Alerts[0])
	}
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges, want 1", n)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/"} {
		res, err := http.Get(h.app.ServerURL() + p)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, res, err)
		}
		res.Body.Close()
	}
	if s := h.call("GET", h.app.ServerURL()+"/admin/v1/alerts", "wrong-token", nil, nil); s != 401 {
		t.Fatalf("admin API with a wrong token: %d", s)
	}
}
