package world

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ppprenew/sim"
	"ppprenew/sim/meter"
	"ppprenew/sim/simtest"
	"ppprenew/workflows"
	"ppprenew/workflows/carrier"
	"ppprenew/workflows/redistest"
)

// The server is killed with SIGKILL in the middle of a burst of
// confirmations and started again. The world, a process apart, keeps its
// handsets, meters, cards and charges; every driver ends with exactly one
// charge, one renewal executed by the meter and one confirmation text.
// Drivers whose text reached no server send it again, as a driver would.
func TestServerKilledMidBurstEveryRenewalEndsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	redistest.Client(t, redistest.DBCrash)
	bin := simtest.BuildServer(t)
	serverAddr := simtest.FreeAddr(t)
	w, err := New(Config{Addr: "127.0.0.1:0", ServerURL: "http://" + serverAddr, AdminToken: carrier.DevAdminToken,
		AccountSID: carrier.DevAccountSID, AuthToken: carrier.DevAuthToken, PlatformNumbers: []string{"+85258001000"},
		WakeCallerID: "+85258001000", GatewayAPIKey: carrier.DevPaymentKey, VoiceTick: 10 * time.Millisecond, MeterPoll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	t.Cleanup(func() { w.Close(context.Background()) })
	srv := &simtest.Server{TB: t, Bin: bin, URL: "http://" + serverAddr, Env: simtest.SimEnv(serverAddr, w.Addr(), redistest.DBCrash)}
	srv.Start()

	const drivers = 16
	ctx := t.Context()
	hc := &http.Client{Timeout: 20 * time.Second}
	phones, cards, meters := make([]string, drivers), make([]string, drivers), make([]string, drivers)
	for i := range drivers {
		phones[i] = fmt.Sprintf("+8529300%04d", i)
		meters[i] = fmt.Sprintf("CRASH-%02d", i)
		// Charges answer late, later for each driver, so the kill finds
		// some charged, some in flight and some not yet asked for.
		card, err := w.Gateway.AddCard(sim.Card{Kind: sim.CardCredit, Last4: "4242", SlowNext: sim.SlowSpec{Count: 1, DelayMS: 150 * i}})
		if err != nil {
			t.Fatal(err)
		}
		cards[i] = card.Token
		body, _ := json.Marshal(map[string]any{"phone": phones[i], "language": "en", "card_token": card.Token, "card_last4": "4242", "card_kind": "credit"})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/v1/users", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+carrier.DevAdminToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatalf("register driver %d: %v", i, err)
		}
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("register driver %d: %s", i, res.Status)
		}
		res.Body.Close()
		if _, err := w.Fleet.Add(ctx, meter.Spec{ID: meters[i], SIMNumber: fmt.Sprintf("+8526300%04d", i), Location: "Pier Road", Bays: []string{"1"}, Online: true}); err != nil {
			t.Fatal(err)
		}
	}
	// Paid for as long as the lead time: every notice is due now.
	for i := range drivers {
		if _, err := w.Fleet.Tap(ctx, meters[i], "1", cards[i], 10, 1000); err != nil {
			t.Fatal(err)
		}
	}
	texts := func(i int, want string) int {
		n := 0
		for _, m := range w.Carrier.PhoneMessages(phones[i], "") {
			if strings.Contains(m.Body, want) {
				n++
			}
		}
		return n
	}
	waitAll := func(what string, limit time.Duration, done func(i int) bool) {
		t.Helper()
		simtest.Eventually(t, what, limit, func() bool {
			for i := range drivers {
				if !done(i) {
					return false
				}
			}
			return true
		})
	}
	waitAll("every notice", 60*time.Second, func(i int) bool { return texts(i, "Reply 1 to extend") == 1 })
	for i := range drivers {
		if _, err := w.Carrier.SendSMS(ctx, phones[i], sim.InboundSMS{Body: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	waitAll("every quote", 60*time.Second, func(i int) bool { return texts(i, "Reply 1 to confirm") == 1 })

	// The burst of confirmations, and SIGKILL once a quarter of the
	// charges have been answered.
	failed := make([]bool, drivers)
	var wg sync.WaitGroup
	for i := range drivers {
		wg.Go(func() {
			res, err := w.Carrier.SendSMS(ctx, phones[i], sim.InboundSMS{Body: "1"})
			failed[i] = err != nil || res.WebhookStatus != http.StatusOK
		})
	}
	simtest.Eventually(t, "a quarter of the charges to be answered", 60*time.Second, func() bool {
		return len(w.Gateway.Charges()) >= drivers/4
	})
	srv.Kill()
	wg.Wait()
	killedAfter := len(w.Gateway.Charges())
	srv.Start()
	resent := 0
	for i := range drivers {
		if failed[i] {
			resent++
			if _, err := w.Carrier.SendSMS(ctx, phones[i], sim.InboundSMS{Body: "1"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("killed after %d charges were answered; %d confirmations reached no server and were sent again", killedAfter, resent)
	if killedAfter >= drivers {
		t.Fatalf("the server was killed after all %d charges were answered: not mid-burst", killedAfter)
	}

	waitAll("every confirmation", 120*time.Second, func(i int) bool { return texts(i, "Renewed:") >= 1 })
	// Nothing left to do: no task pending, running or waiting for a retry.
	ins := asynq.NewInspector(asynq.RedisClientOpt{Addr: redistest.Addr(), DB: redistest.DBCrash})
	defer ins.Close()
	simtest.Eventually(t, "the queue to drain", 60*time.Second, func() bool {
		q, err := ins.GetQueueInfo(workflows.DefaultTaskConfig().Queue)
		return err == nil && q.Pending+q.Active+q.Retry == 0
	})

	succeeded := map[string]int{}
	for _, c := range w.Gateway.Charges() {
		if c.Status == "succeeded" {
			succeeded[c.CardToken]++
		}
	}
	received := w.Gateway.ReceivedCharges()
	for i := range drivers {
		if n := succeeded[cards[i]]; n != 1 {
			t.Errorf("driver %d: %d charges succeeded, want exactly 1", i, n)
		}
		keys := 0
		for key := range received.ByKey {
			for _, c := range w.Gateway.Charges() {
				if c.IdempotencyKey == key && c.CardToken == cards[i] {
					keys++
					break
				}
			}
		}
		if keys != 1 {
			t.Errorf("driver %d: charges under %d idempotency keys, want 1 (a repeat after the crash must be a lookup)", i, keys)
		}
		snap, _ := w.Fleet.Get(meters[i])
		if n := snap.Counters.RenewsExecuted; n != 1 {
			t.Errorf("meter %s executed %d renewals, want exactly 1", meters[i], n)
		}
		if n := texts(i, "Renewed:"); n != 1 {
			t.Errorf("driver %d received %d confirmations, want exactly 1", i, n)
		}
	}
}
