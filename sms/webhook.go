package sms

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go/twiml"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/twiliohook"
)

// Webhooks handles Twilio's messaging webhooks. It verifies nothing itself:
// mount it behind twiliohook.Middleware.
type Webhooks struct {
	// Texts is the conversation as the SMS channel sees it.
	Texts   workflows.Texts
	Redis   redis.UniversalClient
	Metrics *Metrics
	// Enqueue carries out extra sends (the one retry of an unreachable handset).
	Queue workflows.EffectQueue
	// DedupeTTL is how long an inbound MessageSid is remembered (at least 24 h).
	DedupeTTL time.Duration
	Now       func() time.Time
	Log       *slog.Logger
}

// Register mounts POST /sms and /sms/status on g (the /twilio group).
func (w *Webhooks) Register(g *echo.Group) {
	g.POST("/sms", w.inbound)
	g.POST("/sms/status", w.status)
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// emptyResponse is the TwiML answer to every inbound message: replies are
// sent through the API as tasks, never inline.
func emptyResponse(c echo.Context) error {
	body, err := twiml.Messages(nil)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(body))
}

func (w *Webhooks) inbound(c echo.Context) error {
	ctx := c.Request().Context()
	f := twiliohook.Form(c)
	sid, from, body := f.Get("MessageSid"), f.Get("From"), f.Get("Body")
	log := w.Log.With("task", sid, "from", engine.MaskPhone(from))
	if sid == "" || !e164.MatchString(from) {
		w.Metrics.Inbound.WithLabelValues("malformed").Inc()
		log.WarnContext(ctx, "inbound SMS without MessageSid or a valid From")
		return c.String(http.StatusBadRequest, "MessageSid and an E.164 From are required")
	}
	// One round trip claims the message id, reads the opt-out and finds
	// the conversation it answers.
	claim := workflows.Claim{Key: keyIn(sid), TTL: w.DedupeTTL}
	rt, err := w.Texts.Route(ctx, from, claim)
	if err != nil {
		return w.storeDown(c, log, body, err)
	}
	if !rt.Fresh {
		w.Metrics.Inbound.WithLabelValues("duplicate").Inc()
		log.InfoContext(ctx, "duplicate inbound SMS ignored")
		return emptyResponse(c)
	}
	outcome, err := w.handle(ctx, sid, body, rt)
	if err != nil {
		// Forget the id so the carrier's retry is processed.
		_ = w.Texts.Unclaim(context.WithoutCancel(ctx), claim)
		if storeUnavailable(err) {
			return w.storeDown(c, log, body, err)
		}
		w.Metrics.Inbound.WithLabelValues("error").Inc()
		log.ErrorContext(ctx, "inbound SMS failed", "err", err)
		return c.String(http.StatusInternalServerError, "try again")
	}
	w.Metrics.Inbound.WithLabelValues(outcome).Inc()
	log.InfoContext(ctx, "inbound SMS", "outcome", outcome)
	return emptyResponse(c)
}

// storeDown answers a message that could not be recorded because Redis is
// unreachable: the carrier does not retry an inbound webhook, so the driver
// is asked inline to send the reply again.
func (w *Webhooks) storeDown(c echo.Context, log *slog.Logger, body string, err error) error {
	ctx := c.Request().Context()
	w.Metrics.StoreUnavailable.Inc()
	w.Metrics.Inbound.WithLabelValues("store_unavailable").Inc()
	log.ErrorContext(ctx, "inbound SMS not recorded: store unavailable, driver asked to send again", "err", err)
	return resendResponse(c, body)
}

// handle turns an inbound text into a workflow input and returns a short
// outcome for logs and metrics.
func (w *Webhooks) handle(ctx context.Context, sid, body string, rt workflows.Route) (string, error) {
	from := rt.Phone
	reply := ParseReply(body)
	// notify answers outside any conversation, in the driver's language. The
	// driver is looked up only then: an answer to an open conversation (the
	// hot path) finds the driver through the conversation itself.
	notify := func(template string) error {
		lang := ""
		if u, err := w.Texts.DriverByPhone(ctx, from); err == nil {
			lang = u.Language
		} else if !errors.Is(err, workflows.ErrNotFound) {
			return err
		}
		return w.Texts.Notify(ctx, sid, from, lang, template)
	}
	optedOut := rt.OptedOut
	switch {
	case reply.Kind == ReplyStop:
		return "opt_out", w.Texts.OptOut(ctx, from)
	case optedOut && IsOptInKeyword(body):
		if _, err := w.Texts.OptIn(ctx, from); err != nil {
			return "", err
		}
		return "opt_in", notify("opted_in")
	case optedOut:
		return "ignored_opted_out", nil
	case reply.Kind == ReplyStart:
		return "already_opted_in", notify("opted_in")
	case reply.Kind == ReplyHelp:
		return "help", notify("help")
	}
	_, err := w.Texts.ReplyRouted(ctx, rt, answer(reply), "sms")
	if errors.Is(err, workflows.ErrNoSession) {
		return "no_session", notify("no_session")
	}
	if err != nil {
		return "", err
	}
	return "reply", nil
}

// answer maps a parsed text to the engine's channel-independent answer.
func answer(r Reply) engine.Answer {
	switch r.Kind {
	case ReplyChoice:
		switch r.Choice {
		case 1:
			return engine.AnswerOne
		case 2:
			return engine.AnswerTwo
		case 3:
			return engine.AnswerThree
		}
	case ReplyYes:
		return engine.AnswerYes
	case ReplyNo:
		return engine.AnswerNo
	}
	return engine.AnswerUnknown
}

// status applies a delivery status callback. Statuses only move forward; a
// permanent failure is reported to the conversation once. A callback for a
// message the service did not send (no mid, or no record of it) is counted,
// logged and acknowledged with 204, changing nothing: an error answer would
// only make the carrier log a webhook failure.
func (w *Webhooks) status(c echo.Context) error {
	ctx := c.Request().Context()
	f := twiliohook.Form(c)
	mid := c.QueryParam("mid")
	st, sid, code := f.Get("MessageStatus"), f.Get("MessageSid"), f.Get("ErrorCode")
	if mid == "" {
		return w.unknownMessage(c, "no_mid", mid, sid, st)
	}
	rank, known := statusRank[st]
	if !known || sid == "" {
		w.Log.WarnContext(ctx, "malformed status callback", "mid", mid, "status", st)
		return c.String(http.StatusBadRequest, "mid, MessageSid and a known MessageStatus are required")
	}
	key := keyOut(mid)
	changed, err := statusScript.Run(ctx, w.Redis, []string{key}, st, rank, code, w.Now().UnixMilli(), sid).Int()
	if err != nil {
		return err
	}
	if changed == -1 {
		return w.unknownMessage(c, "unknown_mid", mid, sid, st)
	}
	w.Metrics.Statuses.WithLabelValues(st, strconv.FormatBool(changed == 1)).Inc()
	if changed != 1 {
		w.Log.InfoContext(ctx, "status callback ignored", "task", mid, "status", st)
		return c.NoContent(http.StatusNoContent)
	}
	if st == "undelivered" || st == "failed" {
		if err := w.failed(ctx, mid, code); err != nil {
			return err
		}
	}
	return c.NoContent(http.StatusNoContent)
}

// unknownMessage acknowledges a status callback for a message the service has
// no record of, without changing anything.
func (w *Webhooks) unknownMessage(c echo.Context, reason, mid, sid, st string) error {
	w.Metrics.StatusUnknown.WithLabelValues(reason).Inc()
	w.Log.WarnContext(c.Request().Context(), "status callback for a message not sent by this service",
		"reason", reason, "task", mid, "sid", sid, "status", st)
	return c.NoContent(http.StatusNoContent)
}

// failed reacts to a delivery failure: an opt-out ends the conversations, an
// unreachable handset gets one more try, anything else is reported.
func (w *Webhooks) failed(ctx context.Context, mid, codeStr string) error {
	rec, err := w.Redis.HGetAll(ctx, keyOut(mid)).Result()
	if err != nil {
		return err
	}
	code, _ := strconv.Atoi(codeStr)
	w.Log.WarnContext(ctx, "message not delivered", "task", mid, "code", code, "conv", rec["conv"])
	switch {
	case code == ErrCodeOptedOut:
		return w.Texts.OptOut(ctx, rec["to"])
	case code == ErrCodeUnreachable && rec["retry_of"] == "":
		retry := mid + ":retry"
		if err := w.Redis.HSet(ctx, keyOut(retry), "retry_of", mid).Err(); err != nil {
			return err
		}
		// One more try, never valid past what the first one referred to.
		valid := w.Now().Add(5 * time.Minute)
		if ms, err := strconv.ParseInt(rec["valid_until_ms"], 10, 64); err == nil && ms > 0 && time.UnixMilli(ms).Before(valid) {
			valid = time.UnixMilli(ms)
		}
		return w.Queue.Enqueue(ctx, rec["conv"], []engine.Effect{{ID: retry, Kind: engine.EffectSend, Send: &engine.Send{
			Channel: "sms", To: rec["to"], Template: rec["template"], Body: rec["body"], ValidUntil: valid,
		}}})
	case rec["conv"] != "":
		_, err := w.Texts.ChannelEvent(ctx, rec["conv"], engine.Input{Kind: engine.InputSendFailed,
			Send: &engine.SendFailure{EffectID: mid, Code: code, Channel: engine.ChannelSMS, Template: rec["template"], Reason: "undelivered"}})
		return err
	}
	return nil
}
