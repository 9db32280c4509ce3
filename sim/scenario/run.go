package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"ppprenew/sim"
	"ppprenew/sim/meter"
	"ppprenew/workflows/engine"
)

// run is one scenario being run.
type run struct {
	c     *client
	sc    *Scenario
	info  *serverInfo
	names *names
	start time.Time
	// prev are the counts of texts, calls and pushes when the previous step
	// began; seen, calls and pushes are how many an expectation consumed.
	prev                *marks
	seen, calls, pushes map[string]int
	apps                map[Phone]string     // driver -> simulated app id
	taps                map[string]time.Time // run meter id + "/" + bay -> paid until of the last tap
}

// marks are counts per run phone (texts, calls) and per app (pushes).
type marks struct {
	texts, calls, pushes map[string]int
}

func (r *run) mark(ctx context.Context) (*marks, error) {
	m := &marks{texts: map[string]int{}, calls: map[string]int{}, pushes: map[string]int{}}
	for _, p := range r.names.phones {
		msgs, err := r.inbox(ctx, p)
		if err != nil {
			return nil, err
		}
		m.texts[p] = len(msgs)
		calls, err := r.phoneCalls(ctx, p)
		if err != nil {
			return nil, err
		}
		m.calls[p] = len(calls)
	}
	for _, id := range r.apps {
		a, err := r.app(ctx, id)
		if err != nil {
			return nil, err
		}
		m.pushes[id] = len(a.Pushes)
	}
	return m, nil
}

// from is where an expectation starts looking in a list keyed by k.
func (r *run) from(prev map[string]int, consumed map[string]int, k string) int {
	n := consumed[k]
	if r.prev != nil {
		n = max(n, prev[k])
	}
	return n
}

func (r *run) inbox(ctx context.Context, phone string) ([]sim.PhoneMessage, error) {
	var msgs []sim.PhoneMessage
	err := r.c.world(ctx, "GET", "/phones/"+url.PathEscape(phone)+"/messages", nil, &msgs)
	return msgs, err
}

func (r *run) phoneCalls(ctx context.Context, phone string) ([]sim.Call, error) {
	var calls []sim.Call
	err := r.c.world(ctx, "GET", "/phones/"+url.PathEscape(phone)+"/calls", nil, &calls)
	return calls, err
}

func (r *run) app(ctx context.Context, id string) (sim.App, error) {
	var a sim.App
	err := r.c.world(ctx, "GET", "/apps/"+url.PathEscape(id), nil, &a)
	return a, err
}

// setup creates the scenario's world under the run's names.
func (r *run) setup(ctx context.Context) error {
	w := r.sc.World
	for _, m := range w.Meters {
		bays, _ := meter.ParseBays(cmpOr(m.Bays, "1-20"))
		loc := cmpOr(m.Location, "Queen's Road Central")
		var err error
		for try := 0; try < 5; try++ {
			id := r.names.meterID(m.ID)
			sim := fmt.Sprintf("+8526%07d", rand.IntN(10_000_000))
			err = r.c.world(ctx, "POST", "/meters", map[string]any{"id": id, "sim_number": sim, "zone": m.Zone, "location": loc, "bays": bays, "online": m.Online}, nil)
			if status(err) != 409 {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("meter %s: %w", m.ID, err)
		}
	}
	for _, cs := range w.Cards {
		tok, err := r.card(ctx, cmpOr(cs.Kind, "credit"), cmpOr(cs.Last4, "4242"), cs.Balance, false, false)
		if err != nil {
			return fmt.Errorf("card %s: %w", cs.ID, err)
		}
		r.names.cards[cs.ID] = tok
	}
	for _, d := range w.Drivers {
		kind := cmpOr(d.Card, "credit")
		last4 := cmpOr(d.Last4, "4242")
		tok, err := r.card(ctx, kind, last4, d.Balance, d.Expired, d.Blacklisted)
		if err != nil {
			return fmt.Errorf("card of %s: %w", d.Phone, err)
		}
		r.names.cards[string(d.Phone)] = tok
		u := map[string]any{"phone": r.names.phone(d.Phone), "language": cmpOr(d.Lang, "en"), "card_token": tok, "card_last4": last4,
			"card_kind": kind, "channel": d.Channel, "channels": d.Channels, "pin": d.PIN, "calls_in_quiet_hours": d.CallsInQuietHours}
		if d.LeadTime > 0 {
			u["lead_time"] = time.Duration(d.LeadTime).String()
		}
		if err := r.c.admin(ctx, "POST", "/users", u, nil); err != nil {
			return fmt.Errorf("register driver %s: %w", d.Phone, err)
		}
		if d.Behaviour != "" {
			if err := r.behaviour(ctx, d.Phone, d.Behaviour); err != nil {
				return err
			}
		}
	}
	for _, p := range w.Phones {
		if err := r.behaviour(ctx, p.Phone, p.Behaviour); err != nil {
			return err
		}
	}
	for _, b := range w.Blacklist {
		kind, value := "phone", r.names.phone(b.Phone)
		if b.CardOf != "" {
			kind, value = "card", r.names.cards[string(b.CardOf)]
		}
		if err := r.c.admin(ctx, "POST", "/blacklist", map[string]any{"kind": kind, "value": value, "reason": cmpOr(b.Reason, "blacklisted by the scenario")}, nil); err != nil {
			return fmt.Errorf("blacklist: %w", err)
		}
	}
	r.names.rebuild()
	return nil
}

func (r *run) card(ctx context.Context, kind, last4 string, bal Amount, expired, black bool) (string, error) {
	balance := int64(10000)
	if bal.Set {
		balance = bal.Minor
	}
	var cd sim.Card
	err := r.c.world(ctx, "POST", "/cards", map[string]any{"kind": kind, "last4": last4, "balance_minor": balance, "expired": expired, "blacklisted": black}, &cd)
	return cd.Token, err
}

func (r *run) behaviour(ctx context.Context, p Phone, b string) error {
	if err := r.c.world(ctx, "POST", "/phones/"+url.PathEscape(r.names.phone(p)), map[string]any{"behaviour": b}, nil); err != nil {
		return fmt.Errorf("phone %s behaviour %s: %w", mask(p), b, err)
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// poll calls check until it reports done or within passes.
func poll(ctx context.Context, within time.Duration, check func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := check()
		if err != nil || ok {
			return ok, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
}

func within(d Duration, def time.Duration) time.Duration {
	if d > 0 {
		return time.Duration(d)
	}
	return def
}

// conversation returns the newest conversation of a run phone.
func (r *run) conversation(ctx context.Context, phone string) (*engine.State, error) {
	var list struct {
		Conversations []engine.State `json:"conversations"`
	}
	if err := r.c.admin(ctx, "GET", "/conversations?phone="+url.QueryEscape(phone), nil, &list); err != nil {
		return nil, err
	}
	if len(list.Conversations) == 0 {
		return nil, nil
	}
	var cv struct {
		State engine.State `json:"state"`
	}
	err := r.c.admin(ctx, "GET", "/conversations/"+url.PathEscape(list.Conversations[0].ID), nil, &cv)
	return &cv.State, err
}

// quoteBody shows a text for a diff.
func quoteBody(s string) string {
	return fmt.Sprintf("%q", s)
}

func listTexts(msgs []sim.PhoneMessage) string {
	if len(msgs) == 0 {
		return "    (none)\n"
	}
	var b strings.Builder
	for _, m := range msgs {
		st := m.Status
		if m.ErrorCode != 0 {
			st += fmt.Sprintf(" %d", m.ErrorCode)
		}
		fmt.Fprintf(&b, "    [%s] %s\n", st, quoteBody(m.Body))
	}
	return b.String()
}
