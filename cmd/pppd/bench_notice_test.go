package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/sim"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// BenchmarkNoticeBurst is a street of meters whose paid time all ends at
// the same second: 2,000 registered drivers, texts preferred, paid until
// the same instant T, so every expiry notice falls due at T minus the lead
// time (the shipped 10 min). It measures, for each notice, the lag from the
// moment its timer was due (the notice timer armed in the conversation) to
// the moment the simulated carrier accepted the text (the message's
// date_created, on the same clock), and reports notices/s (notices over the
// time from the due instant to the last acceptance), p50_ms, p99_ms and
// max_ms of the lag, and peak_per_s, the most texts the carrier accepted
// in any one second.
//
// It runs twice: with the sending number paced at 100 texts/s
// (PPP_SMS_RATE, a short code's rate), where the burst is about 20 s of
// sending and its lag is mostly the queue behind that pace; and at 5,000
// texts/s, which no single number has but which shows what the engine, the
// outbox, the task queue and the simulated carrier carry when the pace is
// not the limit.
//
// The meter stores a paid-until time in whole seconds (tap time truncated
// plus the seconds paid), so each driver taps for the seconds that end at
// T. A tap that straddles a second boundary ends a second later; each
// notice's lag is counted from its own due time, and the number due at
// another instant is reported as late_due (0 or a few).
//
// The service's clock is the machine's here, not the harness's midday, so
// the carrier's acceptance times and the due times compare directly.
//
// One fixed run per pace whatever b.N: run it with -benchtime 1x. It gives
// up after 60 s from the due time.
func BenchmarkNoticeBurst(b *testing.B) {
	for _, rate := range []int{100, 5000} {
		b.Run(fmt.Sprintf("sms_rate=%d", rate), func(b *testing.B) { noticeBurst(b, rate) })
	}
}

func noticeBurst(b *testing.B, smsRate int) {
	const (
		drivers      = 2000
		baysPerMeter = 50
		// setupMargin is the time from the first tap to the due instant: the
		// taps, their uploads and the conversations they open fit in it.
		setupMargin = 30 * time.Second
		giveUp      = 60 * time.Second
	)
	set, err := engine.ParseSettings(engine.DefaultSettingsYAML())
	if err != nil {
		b.Fatal(err)
	}
	h := startHarnessPaced(b, redistest.DBReplyBench, time.Now(), set, 10*time.Second, smsRate)
	rdb := redis.NewClient(redistest.Options(redistest.DBReplyBench))
	b.Cleanup(func() { _ = rdb.Close() })
	a := &benchApp{harness: h, rdb: rdb}

	bays := make([]string, baysPerMeter)
	for i := range bays {
		bays[i] = fmt.Sprint(i + 1)
	}
	meters := (drivers + baysPerMeter - 1) / baysPerMeter
	for m := range meters {
		id := fmt.Sprintf("NB%d", m)
		if s := a.simctl("POST", "/meters", map[string]any{"id": id, "sim_number": simNumber(id), "zone": "", "location": "Harbour Road", "bays": bays}, nil); s != 201 {
			b.Fatalf("add meter %s: %d", id, s)
		}
	}
	phones := make([]string, drivers)
	cards := make([]string, drivers)
	parallel(b, 8, drivers, func(i int) {
		phones[i] = fmt.Sprintf("+8529200%04d", i)
		var card sim.Card
		if s := a.simctl("POST", "/cards", map[string]any{"kind": "credit", "last4": "4242", "balance_minor": 100000}, &card); s != 201 {
			b.Errorf("create card: %d", s)
			return
		}
		cards[i] = card.Token
		user := map[string]any{"phone": phones[i], "language": "en", "card_token": card.Token, "card_last4": "4242",
			"card_kind": "credit", "channel": engine.ChannelSMS}
		if s := a.admin("POST", "/users", user, nil); s != 201 {
			b.Errorf("register user %d: %d", i, s)
		}
	})
	if b.Failed() {
		b.FailNow()
	}

	// Every driver pays until T; the meters upload at once (a tap makes
	// its meter exchange), and each upload opens a conversation.
	paidUntil := a.now().Add(setupMargin + set.LeadTime).Truncate(time.Second)
	due := paidUntil.Add(-set.LeadTime)
	parallel(b, 8, meters, func(m int) {
		for i := m * baysPerMeter; i < min(drivers, (m+1)*baysPerMeter); i++ {
			seconds := int(paidUntil.Sub(a.now().Truncate(time.Second)) / time.Second)
			path := fmt.Sprintf("/meters/NB%d/bays/%s/tap", m, bays[i%baysPerMeter])
			if s := a.simctl("POST", path, map[string]any{"card_token": cards[i], "seconds": seconds, "amount_minor": 1000}, nil); s != 201 {
				b.Errorf("tap %s: %d", path, s)
				return
			}
		}
	})
	if b.Failed() {
		b.FailNow()
	}
	dueAt := make(map[string]time.Time, drivers) // phone -> its notice's due time
	lateDue := 0
	for _, p := range phones {
		var st engine.State
		for st = a.openConversation(p); st.Timers[engine.TimerNotice].At.IsZero(); st = a.openConversation(p) {
			if !a.now().Before(due) {
				b.Fatalf("%s has no notice armed at the due time: the setup took longer than %s", engine.MaskPhone(p), setupMargin)
			}
			time.Sleep(100 * time.Millisecond)
		}
		at := st.Timers[engine.TimerNotice].At
		dueAt[p] = at
		if !at.Equal(due) {
			lateDue++
		}
	}
	if !a.now().Before(due) {
		b.Fatalf("every notice was armed only after the due time: the setup took longer than %s", setupMargin)
	}

	b.ResetTimer()
	res0 := readResources(b, rdb)
	accepted := map[string]time.Time{} // phone -> when the carrier accepted its notice
	deadline := due.Add(giveUp)
	for len(accepted) < drivers {
		if a.now().After(deadline) {
			b.Fatalf("%d of %d notices accepted by the carrier %s after they were due", len(accepted), drivers, giveUp)
		}
		time.Sleep(200 * time.Millisecond)
		for _, m := range a.world.Carrier.Messages() {
			if _, ok := dueAt[m.To]; ok && strings.HasPrefix(m.Body, set.Operator+": bay ") {
				if _, seen := accepted[m.To]; !seen {
					accepted[m.To] = m.DateCreated
				}
			}
		}
	}
	b.StopTimer()
	res1 := readResources(b, rdb)

	lags := make([]time.Duration, 0, drivers)
	perSecond := map[int64]int{}
	var last time.Time
	for p, at := range accepted {
		lags = append(lags, at.Sub(dueAt[p]))
		perSecond[at.Unix()]++
		if at.After(last) {
			last = at
		}
	}
	slices.Sort(lags)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	peak := 0
	for _, n := range perSecond {
		peak = max(peak, n)
	}
	b.ReportMetric(float64(drivers)/last.Sub(due).Seconds(), "notices/s")
	b.ReportMetric(ms(lags[len(lags)*50/100]), "p50_ms")
	b.ReportMetric(ms(lags[len(lags)*99/100]), "p99_ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "max_ms")
	b.ReportMetric(float64(peak), "peak_per_s")
	b.ReportMetric(float64(lateDue), "late_due")
	b.ReportMetric(float64(res1.proc-res0.proc)/float64(time.Microsecond)/drivers, "cpu_us/notice")
	b.ReportMetric(float64(res1.redisCPU-res0.redisCPU)/float64(time.Microsecond)/drivers, "redis_cpu_us/notice")
}

// parallel runs f(0..n-1) on k goroutines.
func parallel(b *testing.B, k, n int, f func(i int)) {
	b.Helper()
	next := make(chan int)
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
