package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// errStop ends a journey as failed; the reason is its message.
type errStop struct{ reason string }

func (e *errStop) Error() string { return e.reason }

func stop(format string, a ...any) error { return &errStop{fmt.Sprintf(format, a...)} }

// journey pays, waits for the notice, answers and waits for the
// confirmation; it records what it saw in d.
func journey(ctx context.Context, c *client, o Options, p plan, m *matcher, d *driver) {
	err := run(ctx, c, o, p, m, d)
	var s *errStop
	switch {
	case err == nil:
		d.outcome = Completed
	case ctx.Err() != nil:
		d.outcome = TimedOut
		if d.reason == "" {
			d.reason = "still waiting when the drain ended"
		}
	case errors.As(err, &s):
		d.outcome, d.reason = Failed, s.reason
	default:
		d.outcome, d.reason = Failed, err.Error()
	}
	if d.doneAt.IsZero() {
		d.doneAt = time.Now()
	}
}

func run(ctx context.Context, c *client, o Options, p plan, m *matcher, d *driver) error {
	d.tapAt = time.Now()
	tap := map[string]any{"card_token": d.card, "seconds": int(p.lead / time.Second), "amount_minor": 1000}
	if err := c.world(ctx, http.MethodPost, "/meters/"+url.PathEscape(d.meter)+"/bays/1/tap", tap, nil); err != nil {
		return err
	}
	switch d.channel {
	case SMS:
		return smsJourney(ctx, c, o, m, d)
	case Voice:
		return voiceJourney(ctx, c, o, m, d)
	}
	return appJourney(ctx, c, o, d)
}

// every calls f each PollInterval until it reports done or fails.
func every(ctx context.Context, o Options, f func() (bool, error)) error {
	t := time.NewTicker(o.poll())
	defer t.Stop()
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// inbox reads the texts a driver got since the last one seen and hands
// each to f, which returns true to stop.
type inbox struct {
	c     *client
	phone string
	seen  string
}

func (in *inbox) next(ctx context.Context, o Options, f func(phoneMessage) (bool, error)) error {
	return every(ctx, o, func() (bool, error) {
		path := "/phones/" + url.PathEscape(in.phone) + "/messages"
		if in.seen != "" {
			path += "?since=" + url.QueryEscape(in.seen)
		}
		var msgs []phoneMessage
		if err := in.c.world(ctx, http.MethodGet, path, nil, &msgs); err != nil {
			return false, err
		}
		for _, msg := range msgs {
			in.seen = msg.Sid
			if done, err := f(msg); done || err != nil {
				return done, err
			}
		}
		return false, nil
	})
}

// text sends one text from the driver's handset.
func text(ctx context.Context, c *client, d *driver, body string) error {
	var r inboundResult
	if err := c.world(ctx, http.MethodPost, "/phones/"+url.PathEscape(d.phone)+"/sms", map[string]any{"body": body}, &r); err != nil {
		return err
	}
	if r.WebhookStatus != http.StatusOK {
		return stop("the server answered the text %q with HTTP %d %s", body, r.WebhookStatus, r.WebhookError)
	}
	return nil
}

// waitConfirmation waits for the confirmation text; texts saying the
// renewal is under way are passed over, any other is a failure.
func waitConfirmation(ctx context.Context, o Options, m *matcher, in *inbox, d *driver) error {
	return in.next(ctx, o, func(msg phoneMessage) (bool, error) {
		switch k := m.kind(msg.Body); {
		case isConfirmation(k):
			d.doneAt = msg.DateCreated
			return true, nil
		case k == "processing" || k == "payment_checking":
			return false, nil
		case k != "":
			return false, stop("waiting for the confirmation, got the %q text", k)
		}
		return false, nil
	})
}

func smsJourney(ctx context.Context, c *client, o Options, m *matcher, d *driver) error {
	in := &inbox{c: c, phone: d.phone}
	d.reason = "waiting for the notice"
	err := in.next(ctx, o, func(msg phoneMessage) (bool, error) {
		switch k := m.kind(msg.Body); k {
		case "notice":
			d.noticeAt = msg.DateCreated
			return true, nil
		case "":
			return false, nil
		default:
			return false, stop("waiting for the notice, got the %q text", k)
		}
	})
	if err != nil {
		return err
	}
	if err := text(ctx, c, d, "1"); err != nil {
		return err
	}
	d.reason = "waiting for the quote"
	err = in.next(ctx, o, func(msg phoneMessage) (bool, error) {
		switch k := m.kind(msg.Body); k {
		case "quote", "quote_capped":
			return true, nil
		case "":
			return false, nil
		default:
			return false, stop("waiting for the quote, got the %q text", k)
		}
	})
	if err != nil {
		return err
	}
	d.answerAt = time.Now()
	if err := text(ctx, c, d, "1"); err != nil {
		return err
	}
	d.reason = "waiting for the confirmation"
	if err := waitConfirmation(ctx, o, m, in, d); err != nil {
		return err
	}
	d.reason = ""
	return nil
}

func voiceJourney(ctx context.Context, c *client, o Options, m *matcher, d *driver) error {
	d.reason = "waiting for the call"
	var sid string
	err := every(ctx, o, func() (bool, error) {
		var calls []call
		if err := c.world(ctx, http.MethodGet, "/phones/"+url.PathEscape(d.phone)+"/calls", nil, &calls); err != nil {
			return false, err
		}
		for _, cl := range calls {
			if cl.Direction != "inbound" {
				sid, d.noticeAt = cl.Sid, cl.DateCreated
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	// The handset's script keys 1 (extend), then 1 (confirm the quote);
	// the answer is when the second key is seen on the call.
	d.reason = "waiting for the keys on the call"
	err = every(ctx, o, func() (bool, error) {
		var cl call
		if err := c.world(ctx, http.MethodGet, "/calls/"+url.PathEscape(sid), nil, &cl); err != nil {
			return false, err
		}
		keys := 0
		for _, e := range cl.Transcript {
			if e.Kind == "digits" {
				keys++
			}
		}
		if keys >= 2 {
			d.answerAt = time.Now()
			return true, nil
		}
		if cl.Ended {
			return false, stop("the call ended %s after %d of the 2 keys", cl.Status, keys)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	d.reason = "waiting for the confirmation"
	if err := waitConfirmation(ctx, o, m, &inbox{c: c, phone: d.phone}, d); err != nil {
		return err
	}
	d.reason = ""
	return nil
}

func appJourney(ctx context.Context, c *client, o Options, d *driver) error {
	d.reason = "waiting for the notice push"
	err := every(ctx, o, func() (bool, error) {
		var a app
		if err := c.world(ctx, http.MethodGet, "/apps/"+url.PathEscape(d.appID), nil, &a); err != nil {
			return false, err
		}
		for _, p := range a.Pushes {
			if p.Status != http.StatusOK {
				continue
			}
			if d.noticeAt.IsZero() && p.Data["conv"] != "" {
				d.noticeAt = p.At
				d.reason = "waiting for the app's renewal"
			}
			if isConfirmation(p.Data["template"]) {
				d.doneAt = p.At
			}
		}
		for _, an := range a.Answers {
			if an.Press != "renew" {
				continue
			}
			if an.Status < 200 || an.Status > 299 {
				return false, stop("the app's renewal was answered HTTP %d %s", an.Status, an.Error)
			}
			if d.answerAt.IsZero() {
				d.answerAt = an.At
				d.reason = "waiting for the confirmation push"
			}
		}
		return !d.doneAt.IsZero() && !d.answerAt.IsZero(), nil
	})
	if err != nil {
		return err
	}
	d.reason = ""
	return nil
}
