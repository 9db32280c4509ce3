package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"ppprenew/sim/control"
)

// MaxDrivers is how many drivers one run's namespace holds: a run's phone
// numbers are +8529 and a three-digit run prefix followed by a four-digit
// driver number.
const MaxDrivers = 10000

// Texts and calls one journey costs the platform, by channel: an SMS
// journey gets the notice, the quote and the confirmation by text; a voice
// journey one call and the confirmation by text (its driver has no app);
// an app journey only pushes.
var (
	textsPerJourney = map[string]int{SMS: 3, Voice: 1, App: 0}
	callsPerJourney = map[string]int{SMS: 0, Voice: 1, App: 0}
)

// voiceCallTicks is how many simulated seconds of a renewal call pass in
// real time, one world voice tick each, at most: the rings (6) and the hold
// while the card is charged and the meter renewed (2-second pauses, 31 of
// them before the call says the renewal is being processed and the text
// follows); speech takes no real time. Read from a call's transcript on the
// end-to-end run.
const voiceCallTicks = 70

// escalationChannel is the operator's escalation channel each journey
// needs.
var escalationChannel = map[string]string{SMS: "sms", Voice: "voice", App: "push"}

// templatesNeeded are the messages a journey recognises, in the server's
// default language.
var templatesNeeded = []string{"notice", "quote", "confirmed", "confirmed_central"}

// Validate checks the options alone, before any request; every problem is
// reported.
func (o Options) Validate() error {
	var problems []error
	bad := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }
	if o.Drivers <= 0 {
		bad("drivers must be at least 1, not %d", o.Drivers)
	} else if o.Drivers > MaxDrivers {
		bad("%d drivers do not fit one run's namespace: at most %d (four-digit driver numbers under a run prefix)", o.Drivers, MaxDrivers)
	}
	if !(o.Rate > 0) || math.IsInf(o.Rate, 0) {
		bad("rate must be a positive number of new payments per second, not %v", o.Rate)
	}
	if err := o.Mix.validate(); err != nil {
		problems = append(problems, err)
	}
	if o.Duration < 0 {
		bad("duration must not be negative, not %s", o.Duration)
	}
	if o.Drain < 0 {
		bad("drain must not be negative, not %s", o.Drain)
	}
	if o.Server == "" {
		bad("the server's base URL is required")
	}
	if o.Sim == "" {
		bad("the world's base URL is required")
	}
	return errors.Join(problems...)
}

// plan is what a run needs to know of the server and the world.
type plan struct {
	lead      time.Duration
	language  string
	templates map[string]string
	warnings  []string
	// respectQuietHours: voice drivers get no calls in quiet hours.
	respectQuietHours bool
}

// discover reads the server's and the world's descriptions; an unreachable
// one is named with its address.
func discover(ctx context.Context, c *client) (serverInfo, worldInfo, bool, error) {
	var srv serverInfo
	if err := c.admin(ctx, http.MethodGet, "/server", nil, &srv); err != nil {
		var se *statusError
		if errors.As(err, &se) && se.Status == http.StatusUnauthorized {
			return srv, worldInfo{}, false, fmt.Errorf("the server at %s refused the admin token (HTTP 401): pass the server's PPP_ADMIN_TOKEN", c.Server)
		}
		var ue *control.UnreachableError
		if errors.As(err, &ue) {
			return srv, worldInfo{}, false, fmt.Errorf("%w (is it running? try `make run`)", err)
		}
		return srv, worldInfo{}, false, fmt.Errorf("the server at %s: %w", c.Server, err)
	}
	if srv.Carrier != "sim" {
		return srv, worldInfo{}, false, notSim(c.Server, srv.Carrier)
	}
	if err := c.world(ctx, http.MethodGet, "/healthz", nil, nil); err != nil {
		var ue *control.UnreachableError
		if errors.As(err, &ue) {
			return srv, worldInfo{}, false, fmt.Errorf("%w (is it running? try `make run` or `pppsim world`)", err)
		}
		return srv, worldInfo{}, false, fmt.Errorf("the simulated world at %s: %w", c.Sim, err)
	}
	var w worldInfo
	err := c.world(ctx, http.MethodGet, "/world", nil, &w)
	var se *statusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return srv, w, false, nil // a world from before GET /sim/v1/world
	}
	if err != nil {
		return srv, w, false, fmt.Errorf("the simulated world at %s: %w", c.Sim, err)
	}
	return srv, w, true, nil
}

func notSim(server, carrier string) error {
	return fmt.Errorf("the server at %s is not in sim mode (carrier %q): load drives the simulated world only (start it with PPP_CARRIER=sim, as `make run` does)", server, carrier)
}

// check applies the refusal rules to what the server and the world said:
// every reason a run cannot be carried is reported at once; what only
// weakens it comes back as warnings.
func check(o Options, srv serverInfo, w worldInfo, haveWorld bool, now time.Time) (plan, error) {
	var p plan
	var problems []error
	bad := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }
	warn := func(format string, a ...any) { p.warnings = append(p.warnings, fmt.Sprintf(format, a...)) }
	server := strings.TrimRight(o.Server, "/")

	if srv.Carrier != "sim" {
		return p, notSim(server, srv.Carrier)
	}
	lead, err := time.ParseDuration(srv.Settings.LeadTime)
	if err != nil || lead <= 0 {
		bad("the server at %s reports lead_time %q, not a positive duration", server, srv.Settings.LeadTime)
	}
	p.lead = lead
	p.respectQuietHours = o.RespectQuietHours
	p.language = srv.Settings.DefaultLanguage
	p.templates = srv.Settings.Templates[p.language]
	for _, name := range templatesNeeded {
		if p.templates[name] == "" {
			bad("the server's default language %q has no %q template to recognise", p.language, name)
		}
	}

	share := func(ch string) float64 { return o.Rate * float64(o.Mix.share(ch)) / 100 }
	escalates := map[string]bool{}
	for _, e := range srv.Settings.Escalation {
		escalates[e.Channel] = true
	}
	for _, ch := range channels {
		if o.Mix.share(ch) > 0 && !escalates[escalationChannel[ch]] {
			bad("the mix has %s journeys but the server's escalation has no %s step: nobody would be reached that way", ch, escalationChannel[ch])
		}
	}

	texts := 0.0
	for _, ch := range channels {
		texts += share(ch) * float64(textsPerJourney[ch])
	}
	switch {
	case srv.SMSRate <= 0:
		warn("the server does not report its SMS pacing (sms_rate): the text rate of %.1f/s is not checked", texts)
	case texts > float64(srv.SMSRate):
		perPayment := texts / o.Rate
		bad("rate %g/s with mix %s needs %.1f texts/s from the platform number (3 per SMS journey, 1 per voice journey), above the server's SMS pacing of %d/s (PPP_SMS_RATE): use --rate %s or less, or raise PPP_SMS_RATE",
			o.Rate, o.Mix, texts, srv.SMSRate, trimFloat(float64(srv.SMSRate)/perPayment))
	}

	if cps := share(Voice) * float64(callsPerJourney[Voice]); cps > 0 {
		if srv.Settings.Voice.PINRequired {
			bad("the server asks the driver's PIN before a charge is confirmed by voice (voice.pin_required): load drives voice journeys without a PIN; use a mix without voice")
		}
		tick, err := time.ParseDuration(w.VoiceTick)
		switch {
		case !haveWorld:
			warn("the world does not describe itself (GET /sim/v1/world): the call rate of %.1f/s is not checked", cps)
		case err != nil || tick <= 0 || w.MaxCallsInProgress <= 0:
			bad("the world at %s reports voice_tick %q and max_calls_in_progress %d: cannot tell what its voice simulation carries", strings.TrimRight(o.Sim, "/"), w.VoiceTick, w.MaxCallsInProgress)
		default:
			callLength := time.Duration(voiceCallTicks) * tick
			if inProgress := cps * callLength.Seconds(); inProgress > float64(w.MaxCallsInProgress) {
				bad("rate %g/s with voice=%d%% places %.1f calls/s; each renewal call lasts about %s in the world (voice tick %s), so about %.0f calls would be in progress, above the %d the world's voice simulation carries: use a voice rate of at most %.1f calls/s",
					o.Rate, o.Mix.Voice, cps, callLength, tick, inProgress, w.MaxCallsInProgress, float64(w.MaxCallsInProgress)/callLength.Seconds())
			}
		}
		if window := o.expectedLength(); o.RespectQuietHours && quietDuring(srv.Settings.QuietHours.Start, srv.Settings.QuietHours.End, srv.Settings.TimeZone, now, window) {
			warn("the server's quiet hours (%s-%s %s) fall within this run: no calls are placed then (unless the driver opted in), so voice journeys will be skipped and time out",
				srv.Settings.QuietHours.Start, srv.Settings.QuietHours.End, srv.Settings.TimeZone)
		}
	}
	if haveWorld && w.ServerURL != "" && strings.TrimRight(w.ServerURL, "/") != server {
		warn("the world plays against %s, not %s: its webhooks and meters reach that server", w.ServerURL, server)
	}
	return p, errors.Join(problems...)
}

// expectedLength is how long a run may last: until the last journey starts
// and the drain after it.
func (o Options) expectedLength() time.Duration {
	starts := time.Duration(float64(o.Drivers) / o.Rate * float64(time.Second))
	if o.Duration > 0 {
		starts = min(starts, o.Duration)
	}
	return starts + o.drain()
}

// quietDuring reports whether a quiet-hours window start-end ("HH:MM" in
// zone; equal means none) overlaps [from, from+length].
func quietDuring(start, end, zone string, from time.Time, length time.Duration) bool {
	s, err1 := time.Parse("15:04", start)
	e, err2 := time.Parse("15:04", end)
	if err1 != nil || err2 != nil {
		return false
	}
	sm, em := s.Hour()*60+s.Minute(), e.Hour()*60+e.Minute()
	if sm == em {
		return false
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	length = min(length, 24*time.Hour)
	for t := from; !t.After(from.Add(length)); t = t.Add(time.Minute) {
		lt := t.In(loc)
		m := lt.Hour()*60 + lt.Minute()
		if (sm < em && m >= sm && m < em) || (sm > em && (m >= sm || m < em)) {
			return true
		}
	}
	return false
}

func trimFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", math.Floor(f*100)/100), "0"), ".")
}
