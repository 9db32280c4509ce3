package ivr

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/twiliohook"
)

//go:embed status.lua
var statusLua string

var statusScript = redis.NewScript(statusLua)

// Webhooks answers Twilio's voice webhooks. Mount it behind
// twiliohook.Middleware. Every answer, errors included, is valid TwiML.
type Webhooks struct {
	Config Config
	// Conversations are the renewal conversations the calls are about.
	Conversations workflows.Conversations
	// Settings are the operator's voice settings, prompts and languages.
	Settings *engine.Settings
	// Redis keeps the calls between webhooks (see session.go).
	Redis   redis.UniversalClient
	Metrics *Metrics
	Now     func() time.Time
	Log     *slog.Logger
}

// Metrics are the voice counters.
type Metrics struct {
	Calls    *prometheus.CounterVec
	Statuses *prometheus.CounterVec
	// StoreUnavailable counts voice webhooks answered with an apology and a
	// hangup because Redis could not be reached, by route.
	StoreUnavailable *prometheus.CounterVec
}

// NewMetrics creates the voice metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Calls:            prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_voice_calls_total", Help: "Voice webhooks by route and outcome."}, []string{"route", "outcome"}),
		Statuses:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_voice_status_callbacks_total", Help: "Call status callbacks by status."}, []string{"status"}),
		StoreUnavailable: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_voice_store_unavailable_total", Help: "Voice webhooks answered with an apology and a hangup because Redis was unreachable, by route."}, []string{"route"}),
	}
}

// Collectors returns the metrics for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Calls, m.Statuses, m.StoreUnavailable}
}

// Register mounts the voice routes on g (the /twilio group).
func (w *Webhooks) Register(g *echo.Group) {
	g.POST("/voice", w.twiml("inbound", w.inbound))
	g.POST("/voice/answer", w.twiml("answer", w.answer))
	g.POST("/voice/gather", w.twiml("gather", w.gather))
	g.POST("/voice/hold", w.twiml("hold", w.hold))
	g.POST("/voice/status", w.status)
}

// handler computes the TwiML of one webhook.
type handler func(ctx context.Context, c echo.Context, f url.Values) (string, error)

// twiml wraps a handler: a step answered before (a retried webhook) gets the
// same TwiML again without running twice, and any error is still valid
// TwiML: an apology and a hangup.
func (w *Webhooks) twiml(route string, h handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		f := twiliohook.Form(c)
		sid := f.Get("CallSid")
		if sid == "" {
			w.Metrics.Calls.WithLabelValues(route, "malformed").Inc()
			w.Log.WarnContext(ctx, "voice webhook without CallSid", "route", route)
			return w.write(c, w.apology(""))
		}
		step := sid + ":" + route + ":" + c.QueryParam("step")
		// One round trip: a stored answer of this step, the step's lock and
		// the call's session (which the handler then reads from ctx).
		var cached, session *redis.StringCmd
		var lock *redis.BoolCmd
		_, _ = w.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
			cached = p.Get(ctx, keyResp(step))
			lock = p.SetNX(ctx, keyLock(step), 1, lockTTL)
			session = p.Get(ctx, keyCall(sid))
			return nil
		})
		if out, err := cached.Result(); err == nil {
			w.Metrics.Calls.WithLabelValues(route, "replayed").Inc()
			w.Log.InfoContext(ctx, "voice webhook replayed", "route", route, "call", sid)
			return w.write(c, out)
		}
		ctx = withSession(ctx, sid, session)
		if ok, err := lock.Result(); err == nil && !ok {
			// The same step is being answered right now: the duplicate gets
			// that answer, never a second run of the handler.
			out, ok := w.awaitAnswer(ctx, step)
			if !ok {
				w.Metrics.Calls.WithLabelValues(route, "replay_timeout").Inc()
				w.Log.WarnContext(ctx, "duplicate voice webhook: first answer did not arrive in time, caller told and hung up", "route", route, "call", sid)
				return w.write(c, w.apology(f.Get("lang")))
			}
			w.Metrics.Calls.WithLabelValues(route, "replayed").Inc()
			w.Log.InfoContext(ctx, "voice webhook replayed after waiting", "route", route, "call", sid)
			return w.write(c, out)
		}
		out, err := h(ctx, c, f)
		switch {
		case err != nil && storeUnavailable(err):
			w.Metrics.StoreUnavailable.WithLabelValues(route).Inc()
			w.Metrics.Calls.WithLabelValues(route, "store_unavailable").Inc()
			w.Log.ErrorContext(ctx, "voice webhook not recorded: store unavailable, caller told and hung up", "route", route, "call", sid, "err", err)
			return w.write(c, w.apology(f.Get("lang")))
		case err != nil:
			w.Metrics.Calls.WithLabelValues(route, "error").Inc()
			w.Log.ErrorContext(ctx, "voice webhook failed", "route", route, "call", sid, "err", err)
			out = w.apology(f.Get("lang"))
		default:
			w.Metrics.Calls.WithLabelValues(route, "ok").Inc()
		}
		w.publishAnswer(ctx, step, out)
		return w.write(c, out)
	}
}

func (w *Webhooks) write(c echo.Context, body string) error {
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(body))
}

// apology is the answer to anything that went wrong.
func (w *Webhooks) apology(lang string) string {
	d := w.newDoc(lang)
	sp, _ := engine.CallSpeech(w.Settings, engine.State{}, engine.CallApology, engine.CallContext{Lang: lang})
	w.render(d, nil, sp)
	s, err := d.String()
	if err != nil {
		return `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, something went wrong. Goodbye.</Say><Hangup/></Response>`
	}
	return s
}

// speak adds to d what the engine says at point of a call about st (the
// zero State for none), and asks its question if it has one.
func (w *Webhooks) speak(d *doc, cl *call, st engine.State, point engine.CallPoint, c engine.CallContext) engine.Speech {
	c.Lang = cl.Lang
	if c.Message == "" {
		c.Message = cl.Template
	}
	sp, err := engine.CallSpeech(w.Settings, st, point, c)
	if err != nil {
		w.Log.Error("voice prompt failed", "point", point, "conv", st.ID, "err", err)
	}
	w.render(d, cl, sp)
	return sp
}

// render writes a speech into d. A held call checks back at the first hold
// step; ThenWait is handled by hold, which knows its step.
func (w *Webhooks) render(d *doc, cl *call, sp engine.Speech) {
	for _, l := range sp.Say {
		d.say(l.Text)
	}
	if sp.Gather != "" && cl != nil {
		prompts := make([]string, 0, len(sp.Prompts))
		for _, l := range sp.Prompts {
			prompts = append(prompts, l.Text)
		}
		w.ask(d, cl, sp.Gather, prompts...)
	}
	switch sp.Then {
	case engine.ThenHangup:
		d.hangup()
	case engine.ThenHold:
		d.redirect(w.route("/hold", url.Values{"step": {"1"}}))
	}
}

func (w *Webhooks) newDoc(lang string) *doc {
	return &doc{voice: w.Settings.VoiceFor(lang)}
}

// ask ends a document with a keypad question whose answer comes back to gather.
func (w *Webhooks) ask(d *doc, cl *call, g engine.Gather, prompts ...string) {
	cl.Step++
	cl.Kind = g
	numDigits, finishOnKey := g.Keys()
	d.gather(w.route("/gather", url.Values{"step": {strconv.Itoa(cl.Step)}}), numDigits, finishOnKey, w.Settings.Voice.GatherTimeout, prompts...)
}

// answer is the Url of an outbound conversation call.
func (w *Webhooks) answer(ctx context.Context, c echo.Context, f url.Values) (string, error) {
	convID, send := c.QueryParam("conv"), c.QueryParam("send")
	st, err := w.Conversations.Conversation(ctx, convID)
	if err != nil {
		return "", err
	}
	cl := call{Sid: f.Get("CallSid"), Conv: convID, Send: send, Lang: st.Language, Phone: st.Phone, UserID: st.UserID, Started: w.Now()}
	cl.Template, _ = w.Redis.HGet(ctx, keyOut(send), "template").Result()
	if cl.Template == "" {
		cl.Template = "notice"
	}
	d := w.newDoc(st.Language)
	log := w.Log.With("conv", convID, "call", cl.Sid)
	if by := f.Get("AnsweredBy"); strings.HasPrefix(by, "machine") || by == "fax" {
		log.InfoContext(ctx, "answered by a machine", "answered_by", by)
		w.speak(d, &cl, st, engine.CallVoicemail, engine.CallContext{})
		if err := w.fallback(ctx, cl, "voicemail"); err != nil {
			return "", err
		}
		return d.String()
	}
	w.speak(d, &cl, st, engine.CallAnswered, engine.CallContext{})
	if !st.Phase.AwaitingDriver() {
		return d.String()
	}
	return w.done(ctx, d, cl)
}

// menu speaks what a conversation waits for and asks for the answer, or
// says where it stands and hangs up. spoken are the engine's inline messages.
func (w *Webhooks) menu(d *doc, cl *call, st engine.State, spoken []engine.Effect) {
	w.speak(d, cl, st, engine.CallMenu, engine.CallContext{Spoken: spoken})
}

// fallback reports once per call that the driver was not reached, so the
// conversation sends the same message as a text.
func (w *Webhooks) fallback(ctx context.Context, cl call, reason string) error {
	if cl.Conv == "" {
		return nil
	}
	key := cl.Send
	if key == "" {
		key = cl.Sid
	}
	if ok, err := w.Redis.SetNX(ctx, keyFallback(key), reason, 7*24*time.Hour).Result(); err != nil || !ok {
		return err
	}
	tpl := cl.Template
	if st, err := w.Conversations.Conversation(ctx, cl.Conv); err == nil {
		tpl = engine.CallFallbackTemplate(st, tpl)
	}
	_, err := w.Conversations.ChannelEvent(ctx, cl.Conv, engine.Input{Kind: engine.InputSendFailed, Send: &engine.SendFailure{
		EffectID: key, Channel: engine.ChannelVoice, Template: tpl, Reason: reason,
	}})
	return err
}

// gather handles the keys pressed at a menu.
func (w *Webhooks) gather(ctx context.Context, c echo.Context, f url.Values) (string, error) {
	cl, err := w.loadCall(ctx, f.Get("CallSid"))
	if err != nil {
		return "", err
	}
	digits := strings.TrimSpace(f.Get("Digits"))
	d := w.newDoc(cl.Lang)
	if cl.Kind != engine.GatherPIN {
		w.Log.InfoContext(ctx, "keypad", "conv", cl.Conv, "call", cl.Sid, "kind", cl.Kind, "digits", digits)
	}
	if digits == "" {
		return w.noInput(ctx, d, &cl)
	}
	cl.Answered = true
	cl.NoInput = 0
	switch cl.Kind {
	case engine.GatherMenu, engine.GatherQuote:
		err = w.menuKey(ctx, d, &cl, digits)
	case engine.GatherPIN:
		err = w.pinKey(ctx, d, &cl, digits)
	case engine.GatherChoose:
		err = w.chooseKey(ctx, d, &cl, digits)
	case engine.GatherMeter, engine.GatherBay:
		err = w.locateKey(ctx, d, &cl, digits)
	default:
		err = fmt.Errorf("call %s: unknown menu %q", cl.Sid, cl.Kind)
	}
	if err != nil {
		return "", err
	}
	if err := w.saveCall(ctx, cl); err != nil {
		return "", err
	}
	return d.String()
}

// noInput repeats the menu a few times, then hangs up and texts instead.
func (w *Webhooks) noInput(ctx context.Context, d *doc, cl *call) (string, error) {
	cl.NoInput++
	if cl.NoInput > w.Settings.Voice.MaxNoInput {
		if cl.Conv == "" {
			// A caller not yet matched to a session: nothing will follow by text.
			w.speak(d, cl, engine.State{}, engine.CallNotFound, engine.CallContext{})
		} else {
			w.speak(d, cl, engine.State{}, engine.CallGoodbye, engine.CallContext{})
		}
		if err := w.fallback(ctx, *cl, "no-input"); err != nil {
			return "", err
		}
		return d.String()
	}
	w.speak(d, cl, engine.State{}, engine.CallNoInput, engine.CallContext{})
	if err := w.repeat(ctx, d, cl); err != nil {
		return "", err
	}
	if err := w.saveCall(ctx, *cl); err != nil {
		return "", err
	}
	return d.String()
}

// repeat asks the current question again.
func (w *Webhooks) repeat(ctx context.Context, d *doc, cl *call) error {
	switch cl.Kind {
	case engine.GatherMenu, engine.GatherQuote:
		st, err := w.Conversations.Conversation(ctx, cl.Conv)
		if err != nil {
			return err
		}
		w.menu(d, cl, st, nil)
	case engine.GatherPIN:
		w.speak(d, cl, engine.State{}, engine.CallPIN, engine.CallContext{})
	case engine.GatherMeter:
		w.speak(d, cl, engine.State{}, engine.CallAskMeter, engine.CallContext{})
	case engine.GatherBay:
		w.speak(d, cl, engine.State{}, engine.CallAskBay, engine.CallContext{})
	case engine.GatherChoose:
		return w.choose(ctx, d, cl)
	}
	return nil
}

func (w *Webhooks) menuKey(ctx context.Context, d *doc, cl *call, digits string) error {
	if digits == "9" {
		return w.repeat(ctx, d, cl)
	}
	var a engine.Answer
	switch {
	case cl.Kind == engine.GatherMenu && (digits == "1" || digits == "2" || digits == "3"):
		a = engine.Answer(digits)
	case cl.Kind == engine.GatherQuote && (digits == "1" || digits == "2"):
		a = engine.Answer(digits)
	default:
		w.speak(d, cl, engine.State{}, engine.CallInvalid, engine.CallContext{})
		return w.repeat(ctx, d, cl)
	}
	if cl.Kind == engine.GatherQuote && a == engine.AnswerOne {
		if locked, err := w.needPIN(ctx, d, cl); err != nil || locked {
			return err
		}
	}
	st, spoken, err := w.Conversations.ReplyTo(ctx, cl.Conv, a, engine.ChannelVoice, nil)
	if err != nil {
		return err
	}
	w.menu(d, cl, st, spoken)
	return nil
}

// needPIN asks for the PIN before a charge when the operator requires it and
// the caller has not entered it yet. It reports true when it took over the
// answer (asking, or locked out).
func (w *Webhooks) needPIN(ctx context.Context, d *doc, cl *call) (bool, error) {
	if cl.Verified || !w.Settings.Voice.PINRequired {
		return false, nil
	}
	u, err := w.Conversations.Driver(ctx, cl.UserID)
	if err != nil {
		return false, err
	}
	if u.PINHash == "" {
		return false, nil // no PIN registered: nothing to check
	}
	if locked, err := w.pinLocked(ctx, u.ID); err != nil {
		return false, err
	} else if locked {
		w.locked(ctx, d, cl)
		return true, nil
	}
	w.speak(d, cl, engine.State{}, engine.CallPIN, engine.CallContext{})
	return true, nil
}

// hold waits on the line while the charge and the meter are processed.
func (w *Webhooks) hold(ctx context.Context, c echo.Context, f url.Values) (string, error) {
	cl, err := w.loadCall(ctx, f.Get("CallSid"))
	if err != nil {
		return "", err
	}
	st, err := w.Conversations.Conversation(ctx, cl.Conv)
	if err != nil {
		return "", err
	}
	d := w.newDoc(cl.Lang)
	cl.Holds++
	step, _ := strconv.Atoi(c.QueryParam("step"))
	canHold := cl.Holds <= w.Config.MaxHolds && w.Now().Sub(cl.Started) < w.Settings.Voice.MaxCall
	if sp := w.speak(d, &cl, st, engine.CallHold, engine.CallContext{CanHold: canHold}); sp.Then == engine.ThenWait {
		d.pause(int(w.Config.HoldPause / time.Second))
		d.redirect(w.route("/hold", url.Values{"step": {strconv.Itoa(step + 1)}}))
	}
	return w.done(ctx, d, cl)
}

// terminalCall are statuses after which a call is over.
var terminalCall = map[string]bool{"completed": true, "busy": true, "no-answer": true, "failed": true, "canceled": true}

// status records call progress. A call that ended without the driver
// pressing a key hands the message over to SMS.
func (w *Webhooks) status(c echo.Context) error {
	ctx := c.Request().Context()
	f := twiliohook.Form(c)
	sid, st := f.Get("CallSid"), f.Get("CallStatus")
	if sid == "" || st == "" {
		w.Log.WarnContext(ctx, "malformed call status callback")
		return c.String(http.StatusBadRequest, "CallSid and CallStatus are required")
	}
	w.Metrics.Statuses.WithLabelValues(st).Inc()
	fresh, err := statusScript.Run(ctx, w.Redis, []string{keyStatus(sid)}, st, int(callTTL/time.Second)).Int()
	if err != nil {
		return err
	}
	if fresh == 0 || !terminalCall[st] {
		return c.NoContent(http.StatusNoContent)
	}
	cl, err := w.loadCall(ctx, sid)
	if errors.Is(err, errNoCall) {
		// Never answered: the conversation and message come from the query.
		cl = call{Sid: sid, Conv: c.QueryParam("conv"), Send: c.QueryParam("send")}
		cl.Template, _ = w.Redis.HGet(ctx, keyOut(cl.Send), "template").Result()
	} else if err != nil {
		return err
	}
	w.Log.InfoContext(ctx, "call ended", "conv", cl.Conv, "call", sid, "status", st, "answered", cl.Answered)
	if cl.Conv != "" && cl.Send != "" && !cl.Answered {
		reason := st
		if st == "completed" {
			reason = "hung-up"
		}
		if err := w.fallback(ctx, cl, reason); err != nil {
			return err
		}
	}
	if cl.Conv != "" && cl.Answered {
		if err := w.ended(ctx, cl); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// ended tells the conversation, once per call, that a call the driver
// answered is over; the engine decides what follows (a quote left
// unconfirmed goes on by text). A call that already handed its message
// over to text (no input, PIN lockout) shares the same once-only mark.
func (w *Webhooks) ended(ctx context.Context, cl call) error {
	key := cl.Send
	if key == "" {
		key = cl.Sid
	}
	if ok, err := w.Redis.SetNX(ctx, keyFallback(key), "ended", 7*24*time.Hour).Result(); err != nil || !ok {
		return err
	}
	_, err := w.Conversations.ChannelEvent(ctx, cl.Conv, engine.Input{Kind: engine.InputCallEnded})
	return err
}
