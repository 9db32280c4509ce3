package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// SessionView is an open conversation as the app shows it.
type SessionView struct {
	ID        string       `json:"id"`
	Meter     string       `json:"meter"`
	Bay       string       `json:"bay"`
	Location  string       `json:"location"`
	Phase     engine.Phase `json:"phase"`
	PaidUntil time.Time    `json:"paid_until"`
	GraceEnd  time.Time    `json:"grace_end"`
	Quote     *QuoteView   `json:"quote,omitempty"`
}

// QuoteView is a priced extension waiting for the driver's confirmation.
type QuoteView struct {
	// ID names this quote; POST .../renew confirms it with {"quote_id"}.
	// Every new quote has a new id.
	ID string `json:"id"`
	// Amount is formatted for display ("HKD 20.00").
	Amount      string    `json:"amount"`
	AmountMinor int64     `json:"amount_minor"`
	Currency    string    `json:"currency"`
	From        time.Time `json:"from"`
	Until       time.Time `json:"until"`
	Capped      bool      `json:"capped"`
	// ValidUntil is when the quote can no longer be confirmed (the end of
	// the grace period).
	ValidUntil time.Time `json:"valid_until"`
}

// SessionsResponse lists the user's open conversations, most recently
// prompted first.
type SessionsResponse struct {
	Sessions []SessionView `json:"sessions"`
}

// AnswerRequest is the driver's answer.
type AnswerRequest struct {
	// Answer is "1", "2", "3", "yes" or "no".
	Answer string `json:"answer"`
}

// AnswerResponse is the conversation after an answer.
type AnswerResponse struct {
	Session SessionView  `json:"session"`
	Phase   engine.Phase `json:"phase"`
	// Messages are the texts the conversation answered with, in order.
	Messages []string `json:"messages"`
	// Changed is false when the answer moved nothing.
	Changed bool `json:"changed"`
}

var validAnswers = map[string]engine.Answer{
	"1": engine.AnswerOne, "2": engine.AnswerTwo, "3": engine.AnswerThree,
	"yes": engine.AnswerYes, "no": engine.AnswerNo,
}

func (a *AppAPI) view(st engine.State) SessionView {
	set := a.Settings
	loc := set.Location()
	v := SessionView{
		ID: st.ID, Meter: st.MeterID, Bay: st.Bay, Location: st.Location, Phase: st.Phase,
		PaidUntil: st.PaidUntil.In(loc), GraceEnd: st.GraceEnd(set).In(loc),
	}
	if q := st.Quote; q != nil {
		v.Quote = &QuoteView{
			Amount: q.Amount.Format(q.Currency), AmountMinor: int64(q.Amount), Currency: q.Currency,
			From: q.From.In(loc), Until: q.Until.In(loc), Capped: q.Capped,
			ID: q.ChargeKey, ValidUntil: st.QuoteExpiry(set).In(loc),
		}
	}
	return v
}

func (a *AppAPI) handleSessions(c echo.Context) error {
	ctx := c.Request().Context()
	user := c.Get(ctxUser).(string)
	u, err := a.Conversations.Driver(ctx, user)
	if errors.Is(err, workflows.ErrNotFound) {
		return fail(c, http.StatusUnauthorized, codeInvalidToken, "the app token's user is no longer registered")
	}
	if err != nil {
		return a.internal(c, "load user", err)
	}
	ids, err := a.Conversations.OpenConversations(ctx, u.Phone)
	if err != nil {
		return a.internal(c, "open sessions", err)
	}
	out := SessionsResponse{Sessions: []SessionView{}}
	for _, id := range ids {
		st, err := a.Conversations.Conversation(ctx, id)
		if errors.Is(err, workflows.ErrNotFound) {
			continue
		}
		if err != nil {
			return a.internal(c, "load session", err)
		}
		if st.UserID != user || st.Phase.Terminal() {
			continue
		}
		out.Sessions = append(out.Sessions, a.view(st))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *AppAPI) handleAnswer(c echo.Context) error {
	user := c.Get(ctxUser).(string)
	conv := c.Param("id")
	ctx := c.Request().Context()
	return a.idempotent(c, user, func(body []byte) answer {
		var req AnswerRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return failure(http.StatusBadRequest, codeInvalidJSON, "the body must be JSON {\"answer\"}")
		}
		ans, ok := validAnswers[strings.ToLower(strings.TrimSpace(req.Answer))]
		if !ok {
			return failure(http.StatusBadRequest, codeInvalidAnswer, "answer must be 1, 2, 3, yes or no")
		}
		return a.reply(ctx, user, conv, ans)
	})
}

// reply applies one answer to a conversation of the user.
func (a *AppAPI) reply(ctx context.Context, user, conv string, ans engine.Answer) answer {
	st, refused := a.session(ctx, user, conv)
	if refused != nil {
		return *refused
	}
	next, effects, err := a.Conversations.ReplyTo(ctx, conv, ans, engine.ChannelApp, nil)
	switch {
	case errors.Is(err, workflows.ErrConflict):
		return failure(http.StatusServiceUnavailable, codeBusy, "the session is busy; try again")
	case errors.Is(err, workflows.ErrNotFound):
		return failure(http.StatusNotFound, codeSessionNotFound, "no such session")
	case err != nil:
		return a.failInternal(ctx, "answer session", err)
	}
	a.Log.InfoContext(ctx, "app answer", "user", user, "conv", conv, "answer", string(ans), "from", st.Phase, "to", next.Phase)
	return answer{status: http.StatusOK, body: AnswerResponse{
		Session: a.view(next), Phase: next.Phase, Messages: InlineTexts(effects), Changed: next.Version != st.Version,
	}}
}

// session loads an open conversation of the user, or the answer refusing it.
func (a *AppAPI) session(ctx context.Context, user, conv string) (engine.State, *answer) {
	st, err := a.Conversations.Conversation(ctx, conv)
	var refused answer
	switch {
	case errors.Is(err, workflows.ErrNotFound):
		refused = failure(http.StatusNotFound, codeSessionNotFound, "no such session")
	case err != nil:
		refused = a.failInternal(ctx, "load session", err)
	case st.UserID != user:
		a.Log.WarnContext(ctx, "app answered another user's session", "user", user, "conv", conv)
		refused = failure(http.StatusForbidden, codeForbidden, "this session belongs to another user")
	case st.Phase.Terminal():
		refused = failure(http.StatusConflict, codeSessionClosed, fmt.Sprintf("the session has ended (%s)", st.Phase))
	default:
		return st, nil
	}
	return st, &refused
}

// InlineTexts returns the bodies of the inline sends among effects: the
// messages the conversation answers with in the app's response.
func InlineTexts(effects []engine.Effect) []string {
	out := []string{}
	for _, e := range effects {
		if e.Send != nil && e.Send.Inline {
			out = append(out, e.Send.Body)
		}
	}
	return out
}

func failure(status int, code, msg string) answer {
	return answer{status: status, body: apiError(code, msg)}
}

func (a *AppAPI) failInternal(ctx context.Context, what string, err error) answer {
	a.Log.ErrorContext(ctx, "app api: "+what, "err", err)
	return failure(http.StatusInternalServerError, codeInternal, "internal error")
}
