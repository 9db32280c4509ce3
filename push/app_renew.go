package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// RenewRequest confirms the quote the app showed the driver: its id, or its
// amount and new paid-until (and, optionally, currency). Every field given
// must match the open quote.
type RenewRequest struct {
	QuoteID     string     `json:"quote_id,omitempty"`
	AmountMinor *int64     `json:"amount_minor,omitempty"`
	Currency    string     `json:"currency,omitempty"`
	Until       *time.Time `json:"until,omitempty"`
}

// names reports whether the request names a quote at all.
func (r RenewRequest) names() bool {
	return r.QuoteID != "" || (r.AmountMinor != nil && r.Until != nil)
}

// matches reports whether the request confirms exactly quote q.
func (r RenewRequest) matches(q *engine.Quote) bool {
	switch {
	case q == nil || !r.names():
		return false
	case r.QuoteID != "" && r.QuoteID != q.ChargeKey:
		return false
	case r.AmountMinor != nil && *r.AmountMinor != int64(q.Amount):
		return false
	case r.Until != nil && !r.Until.Equal(q.Until):
		return false
	case r.Currency != "" && r.Currency != q.Currency:
		return false
	}
	return true
}

// QuoteConflict is the 409 answer to a renewal that did not confirm the open
// quote (none named, or another one): nothing was charged. Quote is the
// quote to show the driver and confirm with a new request.
type QuoteConflict struct {
	Error    ErrorDetail `json:"error"`
	Session  SessionView `json:"session"`
	Quote    *QuoteView  `json:"quote"`
	Messages []string    `json:"messages"`
}

// handleQuote prices an extension without charging: it answers 1 unless a
// quote is already open, in which case that quote is returned unchanged.
func (a *AppAPI) handleQuote(c echo.Context) error {
	user := c.Get(ctxUser).(string)
	conv := c.Param("id")
	ctx := c.Request().Context()
	return a.idempotent(c, user, func([]byte) answer {
		st, refused := a.session(ctx, user, conv)
		if refused != nil {
			return *refused
		}
		if st.Phase == engine.PhaseQuoted {
			return answer{status: http.StatusOK, body: AnswerResponse{Session: a.view(st), Phase: st.Phase, Messages: []string{}}}
		}
		return a.reply(ctx, user, conv, engine.AnswerOne)
	})
}

// handleRenew confirms the quote the app showed. A request that names no
// quote, or another quote than the open one, is answered 409 with the open
// quote (made now if there was none) and charges nothing; the app shows it
// and confirms it with a new request. A session that cannot be quoted
// (debit card, maximum stay, a renewal already being charged) answers as
// the answer 1 would.
func (a *AppAPI) handleRenew(c echo.Context) error {
	user := c.Get(ctxUser).(string)
	conv := c.Param("id")
	ctx := c.Request().Context()
	return a.idempotent(c, user, func(body []byte) answer {
		var req RenewRequest
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return failure(http.StatusBadRequest, codeInvalidJSON, `the body must be JSON {"quote_id"} or {"amount_minor", "until"}`)
			}
		}
		st, refused := a.session(ctx, user, conv)
		if refused != nil {
			return *refused
		}
		if st.Phase != engine.PhaseQuoted {
			return a.quoteFirst(ctx, user, conv, req)
		}
		if !req.names() {
			return a.quoteConflict(codeQuoteRequired, st, nil)
		}
		next, effects, err := a.Conversations.ReplyTo(ctx, conv, engine.AnswerYes, engine.ChannelApp, func(s engine.State) bool {
			return s.Phase == engine.PhaseQuoted && req.matches(s.Quote)
		})
		switch {
		case errors.Is(err, workflows.ErrPrecondition) && next.Phase == engine.PhaseQuoted:
			a.Log.InfoContext(ctx, "app renewal named another quote", "user", user, "conv", conv)
			return a.quoteConflict(codeQuoteChanged, next, nil)
		case errors.Is(err, workflows.ErrPrecondition):
			// The quote closed meanwhile (confirmed or cancelled elsewhere).
			return a.quoteFirst(ctx, user, conv, req)
		case errors.Is(err, workflows.ErrConflict):
			return failure(http.StatusServiceUnavailable, codeBusy, "the session is busy; try again")
		case errors.Is(err, workflows.ErrNotFound):
			return failure(http.StatusNotFound, codeSessionNotFound, "no such session")
		case err != nil:
			return a.failInternal(ctx, "confirm quote", err)
		}
		a.Log.InfoContext(ctx, "app renewal confirmed", "user", user, "conv", conv, "to", next.Phase)
		return answer{status: http.StatusOK, body: AnswerResponse{
			Session: a.view(next), Phase: next.Phase, Messages: InlineTexts(effects), Changed: next.Version != st.Version,
		}}
	})
}

// quoteFirst answers 1 for a session without an open quote. A quote made
// now was not seen by the driver, so it is returned in a 409 to confirm;
// any other outcome (processing, debit card, maximum stay) is the answer.
func (a *AppAPI) quoteFirst(ctx context.Context, user, conv string, req RenewRequest) answer {
	first := a.reply(ctx, user, conv, engine.AnswerOne)
	res, ok := first.body.(AnswerResponse)
	if !ok || res.Phase != engine.PhaseQuoted {
		return first
	}
	st, refused := a.session(ctx, user, conv)
	if refused != nil {
		return *refused
	}
	code := codeQuoteRequired
	if req.names() {
		code = codeQuoteChanged
	}
	return a.quoteConflict(code, st, res.Messages)
}

func (a *AppAPI) quoteConflict(code string, st engine.State, messages []string) answer {
	v := a.view(st)
	msg := "confirm the quote shown to the driver: send its quote_id, or its amount_minor and until"
	if code == codeQuoteChanged {
		msg = "the quote is not the one open now; show this one and confirm it"
	}
	if messages == nil {
		messages = []string{}
	}
	return answer{status: http.StatusConflict, body: QuoteConflict{
		Error: ErrorDetail{Code: code, Message: msg}, Session: v, Quote: v.Quote, Messages: messages,
	}}
}
