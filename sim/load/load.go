// Package load drives many drivers through the simulated world and a PPP
// Renew server at a steady rate of new payments, over HTTP only: the
// server's admin API registers the drivers, the world's control API
// (/sim/v1) makes their cards, meters, handset scripts and apps, taps the
// cards and answers the texts. Each journey pays at a meter for exactly the
// server's lead time, so the expiry notice is due at once, gets the notice
// on its channel (SMS, a call or an app push), answers it (1 then 1; keys 1
// then 1; the app's renew button) and waits for the confirmation.
//
// The result has the journeys' outcomes, the throughput of confirmed
// renewals, latency percentiles, and the exactly-once counts per driver
// read from the world: charges that succeeded and charge requests the
// gateway received (a repeat shows), renewals the meter executed, and
// confirmations sent. On a healthy run every count is exactly 1.
//
// Timestamps of what the world records (a text, a call, a push, an app's
// answer) are the world's; the driver's own acts (a tap, a text sent, a key
// seen pressed on the call, polled every PollInterval) are the load
// generator's. Run it on the world's host.
package load

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a run.
type Options struct {
	// Drivers is how many drivers take part, one journey each.
	Drivers int
	// Rate is how many new payments (journeys) start per second.
	Rate float64
	// Mix is the share of journeys answered by SMS, by voice and in the app.
	Mix Mix
	// Duration stops starting new journeys after it (0: start every
	// driver's).
	Duration time.Duration
	// Drain is how long to wait for journeys in flight after the last one
	// started (default 2m); those unfinished then have timed out.
	Drain time.Duration
	// Server is the server's base URL, Sim the world's.
	Server, Sim string
	// AdminToken is the server's admin bearer token.
	AdminToken string
	// RespectQuietHours registers the voice drivers as the shipped default
	// has it: no calls during the server's quiet hours. By default they
	// let calls reach them at any hour, so a run does not depend on the
	// time of day.
	RespectQuietHours bool
	// PollInterval is how often a driver looks at its phone or app
	// (default 100ms).
	PollInterval time.Duration
	// Logf, when set, receives progress lines and warnings.
	Logf func(format string, args ...any)
}

func (o Options) drain() time.Duration {
	if o.Drain == 0 {
		return 2 * time.Minute
	}
	return o.Drain
}

func (o Options) poll() time.Duration {
	if o.PollInterval <= 0 {
		return 100 * time.Millisecond
	}
	return o.PollInterval
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// Outcomes of a journey.
const (
	Completed = "completed"
	Failed    = "failed"
	TimedOut  = "timed_out"
)

// Counts are journeys by outcome.
type Counts struct {
	Started   int `json:"started"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	TimedOut  int `json:"timed_out"`
}

func (c *Counts) add(outcome string) {
	switch outcome {
	case Completed:
		c.Completed++
	case Failed:
		c.Failed++
	case TimedOut:
		c.TimedOut++
	}
}

// DriverCounts are one driver's side effects, each of which must be
// exactly 1.
type DriverCounts struct {
	Driver  int    `json:"driver"`
	Channel string `json:"channel"`
	// Phone is masked.
	Phone   string `json:"phone"`
	Meter   string `json:"meter"`
	Outcome string `json:"outcome"`
	// Reason says why a journey failed or where it stopped.
	Reason string `json:"reason,omitempty"`
	// ChargesSucceeded are the gateway's succeeded charges of the card.
	ChargesSucceeded int `json:"charges_succeeded"`
	// ChargeRequests are the charge requests the gateway received for the
	// card, repeats included.
	ChargeRequests int `json:"charge_requests"`
	// RenewalsExecuted are the renew commands the meter executed.
	RenewalsExecuted int `json:"renewals_executed"`
	// Confirmations are the confirmation texts and pushes the driver got.
	Confirmations int `json:"confirmations"`
}

func (d DriverCounts) exactlyOnce() bool {
	return d.ChargesSucceeded == 1 && d.ChargeRequests == 1 && d.RenewalsExecuted == 1 && d.Confirmations == 1
}

// ExactlyOnce sums the per-driver counts of the journeys started.
type ExactlyOnce struct {
	Drivers          int `json:"drivers"`
	ChargesSucceeded int `json:"charges_succeeded"`
	ChargeRequests   int `json:"charge_requests"`
	RenewalsExecuted int `json:"renewals_executed"`
	Confirmations    int `json:"confirmations"`
	// Violations is the number of drivers for which any count is not
	// exactly 1; 0 on a healthy run.
	Violations int `json:"violations"`
	// Offenders are the first of those drivers (at most 20).
	Offenders []DriverCounts `json:"offenders"`
}

// Result is what a run measured.
type Result struct {
	Run       string             `json:"run"`
	Drivers   int                `json:"drivers"`
	Rate      float64            `json:"rate"`
	Mix       Mix                `json:"mix"`
	Journeys  Counts             `json:"journeys"`
	ByChannel map[string]*Counts `json:"by_channel"`
	// ElapsedS runs from the first payment to the last journey's end.
	ElapsedS float64 `json:"elapsed_s"`
	// Throughput is confirmed renewals per second over ElapsedS.
	Throughput float64 `json:"renewals_per_s"`
	// PaymentToNotice runs from the tap to the notice reaching the driver
	// (the text, the call placed, the push).
	PaymentToNotice Latency `json:"payment_to_notice"`
	// AnswerToConfirmation runs from the confirming answer (the second 1,
	// the second key, the app's renewal) to the confirmation.
	AnswerToConfirmation Latency     `json:"answer_to_confirmation"`
	ExactlyOnce          ExactlyOnce `json:"exactly_once"`
	Warnings             []string    `json:"warnings"`
}

// Check applies the refusal rules without running: the options, then what
// the server and the world say they carry. It returns the warnings.
func Check(ctx context.Context, o Options) ([]string, error) {
	p, _, err := prepare(ctx, o)
	return p.warnings, err
}

func prepare(ctx context.Context, o Options) (plan, *client, error) {
	if err := o.Validate(); err != nil {
		return plan{}, nil, err
	}
	c := newClient(o)
	srv, w, haveWorld, err := discover(ctx, c)
	if err != nil {
		return plan{}, nil, err
	}
	p, err := check(o, srv, w, haveWorld, time.Now())
	return p, c, err
}

// driver is one driver of the run and what its journey saw.
type driver struct {
	i                      int
	channel                string
	phone, meter, simPhone string
	card, userID, appID    string

	outcome, reason                   string
	tapAt, noticeAt, answerAt, doneAt time.Time
}

// Run checks the options (see Check), sets up the drivers, starts their
// journeys at o.Rate until every driver has started or o.Duration has
// passed, waits up to o.Drain for those in flight, and counts.
func Run(ctx context.Context, o Options) (*Result, error) {
	p, c, err := prepare(ctx, o)
	if err != nil {
		return nil, err
	}
	for _, w := range p.warnings {
		o.logf("warning: %s", w)
	}
	planned := o.Drivers
	if o.Duration > 0 {
		planned = min(planned, int(o.Rate*o.Duration.Seconds())+1)
	}
	prefix, err := freePrefix(ctx, c)
	if err != nil {
		return nil, err
	}
	chans := o.Mix.assign(planned)
	drivers := make([]*driver, planned)
	for i := range drivers {
		drivers[i] = &driver{i: i, channel: chans[i], phone: fmt.Sprintf("+8529%03d%04d", prefix, i),
			simPhone: fmt.Sprintf("+8526%03d%04d", prefix, i), meter: fmt.Sprintf("LOAD-%03d-%04d", prefix, i)}
	}
	res := &Result{Run: fmt.Sprintf("load-%03d", prefix), Drivers: planned, Rate: o.Rate, Mix: o.Mix,
		ByChannel: map[string]*Counts{}, Warnings: append([]string{}, p.warnings...)}
	for _, ch := range channels {
		res.ByChannel[ch] = &Counts{}
	}
	o.logf("run %s: setting up %d drivers (mix %s)", res.Run, planned, o.Mix)
	if err := setupAll(ctx, c, o, p, drivers); err != nil {
		return nil, err
	}

	o.logf("run %s: starting journeys at %g/s", res.Run, o.Rate)
	m := newMatcher(p.templates)
	limiter := rate.NewLimiter(rate.Limit(o.Rate), 1)
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	first := time.Now()
	started := 0
	for _, d := range drivers {
		if err := limiter.Wait(ctx); err != nil {
			break
		}
		if o.Duration > 0 && time.Since(first) > o.Duration {
			break
		}
		started++
		wg.Go(func() { journey(jctx, c, o, p, m, d) })
	}
	drivers = drivers[:started]
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.drain()):
		o.logf("run %s: journeys still in flight after the %s drain time out", res.Run, o.drain())
		cancel()
		<-done
	case <-ctx.Done():
		cancel()
		<-done
	}

	last := first
	var notice, answer []time.Duration
	for _, d := range drivers {
		res.Journeys.Started++
		res.ByChannel[d.channel].Started++
		res.Journeys.add(d.outcome)
		res.ByChannel[d.channel].add(d.outcome)
		if d.doneAt.After(last) {
			last = d.doneAt
		}
		if !d.noticeAt.IsZero() {
			notice = append(notice, d.noticeAt.Sub(d.tapAt))
		}
		if d.outcome == Completed {
			answer = append(answer, d.doneAt.Sub(d.answerAt))
		}
	}
	res.ElapsedS = last.Sub(first).Seconds()
	if res.ElapsedS > 0 {
		res.Throughput = float64(res.Journeys.Completed) / res.ElapsedS
	}
	res.PaymentToNotice, res.AnswerToConfirmation = summarise(notice), summarise(answer)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	o.logf("run %s: %d of %d journeys completed; counting side effects", res.Run, res.Journeys.Completed, started)
	eo, err := settle(ctx, c, m, drivers)
	if err != nil {
		return res, err
	}
	res.ExactlyOnce = eo
	return res, nil
}

// freePrefix picks a run prefix whose first driver number the server does
// not know, so runs repeat against one server without a reset.
func freePrefix(ctx context.Context, c *client) (int, error) {
	for range 40 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		prefix := 100 + int(binary.BigEndian.Uint64(b[:])%800) // 100-899: +8529[1-8]... are mobile numbers
		err := c.admin(ctx, http.MethodGet, "/users?phone="+url.QueryEscape(fmt.Sprintf("+8529%03d%04d", prefix, 0)), nil, nil)
		var se *statusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return prefix, nil
		}
		if err != nil && !errors.As(err, &se) {
			return 0, fmt.Errorf("the server at %s: %w", c.Server, err)
		}
	}
	return 0, errors.New("no free run prefix after 40 tries: the server knows most load runs' drivers; reset it (pppsim reset)")
}

// setupAll gives every driver a card, a registration, a meter and its
// handset script or app, a few at a time.
func setupAll(ctx context.Context, c *client, o Options, p plan, drivers []*driver) error {
	work := make(chan *driver)
	errs := make(chan error, len(drivers))
	var wg sync.WaitGroup
	for range min(16, len(drivers)) {
		wg.Go(func() {
			for d := range work {
				if err := setup(ctx, c, o, p, d); err != nil {
					errs <- fmt.Errorf("set up driver %d (%s, %s): %w", d.i, mask(d.phone), d.channel, err)
				}
			}
		})
	}
	for _, d := range drivers {
		work <- d
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
		if len(all) == 5 {
			break
		}
	}
	return errors.Join(all...)
}

func setup(ctx context.Context, c *client, o Options, p plan, d *driver) error {
	var card struct {
		Token string `json:"token"`
	}
	last4 := fmt.Sprintf("%04d", d.i%10000)
	if err := c.world(ctx, http.MethodPost, "/cards", map[string]any{"kind": "credit", "last4": last4}, &card); err != nil {
		return err
	}
	d.card = card.Token
	user := map[string]any{"phone": d.phone, "language": p.language, "card_token": d.card, "card_last4": last4, "card_kind": "credit",
		"channels": []string{escalationChannel[d.channel]}}
	if d.channel == Voice {
		user["channel"] = "voice"
		user["calls_in_quiet_hours"] = !p.respectQuietHours
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := c.admin(ctx, http.MethodPost, "/users", user, &u); err != nil {
		return err
	}
	d.userID = u.ID
	if err := c.world(ctx, http.MethodPost, "/meters", map[string]any{"id": d.meter, "sim_number": d.simPhone, "location": "Load Test Road",
		"bays": []string{"1"}, "online": true}, nil); err != nil {
		return err
	}
	switch d.channel {
	case Voice:
		script := map[string]any{"answer": "human", "rings": 1, "steps": []map[string]any{{"digits": "1"}, {"digits": "1"}}}
		return c.world(ctx, http.MethodPost, "/phones/"+url.PathEscape(d.phone)+"/voice", script, nil)
	case App:
		var tok struct {
			Token string `json:"token"`
		}
		if err := c.admin(ctx, http.MethodPost, "/users/"+url.PathEscape(d.userID)+"/app-token", nil, &tok); err != nil {
			return err
		}
		var a app
		if err := c.world(ctx, http.MethodPost, "/apps", map[string]any{"phone": d.phone, "platform": "fcm", "app_token": tok.Token, "server_url": c.Server}, &a); err != nil {
			return err
		}
		d.appID = a.ID
		return c.world(ctx, http.MethodPost, "/apps/"+url.PathEscape(d.appID)+"/script", map[string]any{"press": "renew"}, nil)
	}
	return nil
}

// settle counts every started driver's side effects once they stop
// changing (two reads in a row agree, at most 15 s apart from the first).
func settle(ctx context.Context, c *client, m *matcher, drivers []*driver) (ExactlyOnce, error) {
	var prev []DriverCounts
	deadline := time.Now().Add(15 * time.Second)
	for {
		cur, err := count(ctx, c, m, drivers)
		if err != nil {
			return ExactlyOnce{}, err
		}
		if slices.Equal(cur, prev) || time.Now().After(deadline) {
			return summariseCounts(cur), nil
		}
		prev = cur
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return ExactlyOnce{}, ctx.Err()
		}
	}
}

func summariseCounts(all []DriverCounts) ExactlyOnce {
	eo := ExactlyOnce{Drivers: len(all), Offenders: []DriverCounts{}}
	for _, d := range all {
		eo.ChargesSucceeded += d.ChargesSucceeded
		eo.ChargeRequests += d.ChargeRequests
		eo.RenewalsExecuted += d.RenewalsExecuted
		eo.Confirmations += d.Confirmations
		if !d.exactlyOnce() {
			eo.Violations++
			if len(eo.Offenders) < 20 {
				eo.Offenders = append(eo.Offenders, d)
			}
		}
	}
	return eo
}

// count reads the world's records of every driver.
func count(ctx context.Context, c *client, m *matcher, drivers []*driver) ([]DriverCounts, error) {
	var charges []charge
	if err := c.world(ctx, http.MethodGet, "/charges", nil, &charges); err != nil {
		return nil, err
	}
	var recv received
	if err := c.world(ctx, http.MethodGet, "/charges/received", nil, &recv); err != nil {
		return nil, err
	}
	var meters struct {
		Meters []meterSnapshot `json:"meters"`
	}
	if err := c.world(ctx, http.MethodGet, "/meters", nil, &meters); err != nil {
		return nil, err
	}
	succeeded := map[string]int{}
	for _, ch := range charges {
		if ch.Status == "succeeded" {
			succeeded[ch.CardToken]++
		}
	}
	renewed := map[string]int{}
	for _, s := range meters.Meters {
		renewed[s.ID] = s.Counters.RenewsExecuted
	}
	out := make([]DriverCounts, len(drivers))
	errs := make([]error, len(drivers))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, d := range drivers {
		out[i] = DriverCounts{Driver: d.i, Channel: d.channel, Phone: mask(d.phone), Meter: d.meter, Outcome: d.outcome, Reason: d.reason,
			ChargesSucceeded: succeeded[d.card], ChargeRequests: recv.ByCard[d.card], RenewalsExecuted: renewed[d.meter]}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			n, err := confirmations(ctx, c, m, d)
			out[i].Confirmations, errs[i] = n, err
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// confirmations counts the confirmation texts and pushes a driver got.
func confirmations(ctx context.Context, c *client, m *matcher, d *driver) (int, error) {
	var msgs []phoneMessage
	if err := c.world(ctx, http.MethodGet, "/phones/"+url.PathEscape(d.phone)+"/messages", nil, &msgs); err != nil {
		return 0, err
	}
	n := 0
	for _, msg := range msgs {
		if isConfirmation(m.kind(msg.Body)) {
			n++
		}
	}
	if d.appID != "" {
		var a app
		if err := c.world(ctx, http.MethodGet, "/apps/"+url.PathEscape(d.appID), nil, &a); err != nil {
			return 0, err
		}
		for _, p := range a.Pushes {
			if p.Status == http.StatusOK && isConfirmation(p.Data["template"]) {
				n++
			}
		}
	}
	return n, nil
}

// mask keeps a number's country code and last four digits.
func mask(phone string) string {
	if len(phone) < 8 {
		return "****"
	}
	return phone[:4] + "****" + phone[len(phone)-4:]
}
