// Package admin is the operators' HTTP API: registered users, blacklists,
// conversations with their audit history, and operator alerts. Mount it on
// a group protected by Auth.
package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/crypto/bcrypt"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// API serves the admin routes.
type API struct {
	Runner *workflows.Runner
	// DefaultRegion parses phone numbers written without a country code.
	DefaultRegion string
	Log           *slog.Logger
}

// Auth accepts requests that carry "Authorization: Bearer <token>".
func Auth(token string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				return c.JSON(http.StatusUnauthorized, apiError{Code: "unauthorized", Message: "a valid admin bearer token is required"})
			}
			return next(c)
		}
	}
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func fail(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, map[string]apiError{"error": {Code: code, Message: msg}})
}

// MaxBodyBytes bounds an admin request body; a larger one answers 413.
const MaxBodyBytes = 64 << 10

// Register mounts the routes on g. Routes that read a body refuse one
// larger than MaxBodyBytes.
func (a *API) Register(g *echo.Group) {
	limit := middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: strconv.Itoa(MaxBodyBytes)})
	g.POST("/users", a.createUser, limit)
	g.GET("/users", a.findUser)
	g.GET("/users/:id", a.getUser)
	g.PUT("/users/:id", a.updateUser, limit)
	g.POST("/blacklist", a.blacklist, limit)
	g.DELETE("/blacklist/:kind/:value", a.unblacklist)
	g.GET("/conversations", a.conversations)
	g.GET("/conversations/:id", a.conversation)
	g.GET("/alerts", a.alerts)
}

// NormalizePhone returns the E.164 form of a phone number.
func NormalizePhone(raw, region string) (string, error) {
	n, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", errors.New("not a valid phone number")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

type userRequest struct {
	ID        string `json:"id"`
	Phone     string `json:"phone"`
	Language  string `json:"language"`
	CardToken string `json:"card_token"`
	CardLast4 string `json:"card_last4"`
	CardKind  string `json:"card_kind"`
	// Channel is "sms" (default) or "voice".
	Channel string `json:"channel"`
	// PIN (4-6 digits) protects voice confirmation; it is stored hashed.
	PIN string `json:"pin"`
	// Channels is the preferred channel order (push, sms, voice).
	Channels []string `json:"channels"`
	// LeadTime is the preferred reminder lead time, e.g. "15m", within the
	// operator's range.
	LeadTime string `json:"lead_time"`
	// CallsInQuietHours lets calls reach the driver during quiet hours.
	CallsInQuietHours bool `json:"calls_in_quiet_hours"`
}

// userView is a user as the API shows it: the card token masked.
type userView struct {
	ID        string   `json:"id"`
	Phone     string   `json:"phone"`
	Language  string   `json:"language"`
	CardToken string   `json:"card_token"`
	CardLast4 string   `json:"card_last4"`
	CardKind  string   `json:"card_kind"`
	Channel   string   `json:"channel"`
	Channels  []string `json:"channels,omitempty"`
	LeadTime  string   `json:"lead_time,omitempty"`
	HasPIN    bool     `json:"has_pin"`
}

func view(u engine.User) userView {
	ch := u.Channel
	if ch == "" {
		ch = engine.ChannelSMS
	}
	v := userView{ID: u.ID, Phone: u.Phone, Language: u.Language, CardToken: engine.MaskToken(u.CardToken), CardLast4: u.CardLast4, CardKind: string(u.CardKind), Channel: ch, Channels: u.Channels, HasPIN: u.PINHash != ""}
	if u.LeadTime > 0 {
		v.LeadTime = u.LeadTime.String()
	}
	return v
}

// bind decodes a JSON body into v. When it cannot, it answers (413 for a
// body over the limit, else 400 with code and msg) and returns false.
func bind(c echo.Context, v any, code, msg string) (bool, error) {
	err := c.Bind(v)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
		return false, fail(c, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body must be at most %d bytes", MaxBodyBytes))
	default:
		return false, fail(c, http.StatusBadRequest, code, msg)
	}
}

// createUser registers a user, or updates the one named by the body's id
// or, without an id, the one registered with the phone.
func (a *API) createUser(c echo.Context) error {
	var r userRequest
	if ok, err := bind(c, &r, "bad_json", "the body must be a JSON user"); !ok {
		return err
	}
	if r.ID != "" && !workflows.ValidUserID(r.ID) {
		return fail(c, http.StatusBadRequest, "bad_id", "id must be 1 to 64 letters, digits, '-' or '_'")
	}
	return a.putUser(c, r, false)
}

// updateUser changes the user named in the path; an unknown or ill-formed
// id answers 404.
func (a *API) updateUser(c echo.Context) error {
	id := c.Param("id")
	if !workflows.ValidUserID(id) {
		return fail(c, http.StatusNotFound, "not_found", "no such user")
	}
	var r userRequest
	if ok, err := bind(c, &r, "bad_json", "the body must be a JSON user"); !ok {
		return err
	}
	if r.ID != "" && r.ID != id {
		return fail(c, http.StatusBadRequest, "bad_id", "the body's id must be the path's")
	}
	r.ID = id
	return a.putUser(c, r, true)
}

func (a *API) putUser(c echo.Context, r userRequest, mustExist bool) error {
	phone, err := NormalizePhone(r.Phone, a.DefaultRegion)
	if err != nil {
		return fail(c, http.StatusBadRequest, "bad_phone", "phone: "+err.Error())
	}
	kind := engine.CardKind(r.CardKind)
	if kind != engine.CardCredit && kind != engine.CardPrepaid && kind != engine.CardDebit {
		return fail(c, http.StatusBadRequest, "bad_card_kind", "card_kind must be credit, prepaid or debit")
	}
	if r.CardToken == "" || len(r.CardLast4) != 4 || strings.Trim(r.CardLast4, "0123456789") != "" {
		return fail(c, http.StatusBadRequest, "bad_card", "card_token and a 4-digit card_last4 are required (never a card number)")
	}
	lang := a.Runner.Settings.Language(r.Language)
	if r.Language != "" && lang != r.Language {
		return fail(c, http.StatusBadRequest, "bad_language", "language must be one of "+strings.Join(a.Runner.Settings.Languages(), ", "))
	}
	for _, ch := range append([]string{r.Channel}, r.Channels...) {
		if ch != "" && ch != engine.ChannelSMS && ch != engine.ChannelVoice && ch != engine.ChannelPush {
			return fail(c, http.StatusBadRequest, "bad_channel", "channels are push, sms or voice")
		}
	}
	var lead time.Duration
	if r.LeadTime != "" {
		d, err := time.ParseDuration(r.LeadTime)
		rng := a.Runner.Settings.LeadTimeRange
		if err != nil || d < rng.Min || d > rng.Max {
			return fail(c, http.StatusBadRequest, "bad_lead_time", fmt.Sprintf("lead_time must be between %s and %s", rng.Min, rng.Max))
		}
		lead = d
	}
	pinHash := ""
	if r.PIN != "" {
		if len(r.PIN) < 4 || len(r.PIN) > 6 || strings.Trim(r.PIN, "0123456789") != "" {
			return fail(c, http.StatusBadRequest, "bad_pin", "pin must be 4 to 6 digits")
		}
		h, err := bcrypt.GenerateFromPassword([]byte(r.PIN), bcrypt.DefaultCost)
		if err != nil {
			return err
		}
		pinHash = string(h)
	}
	if r.ID == "" {
		if u, err := a.Runner.Registry.UserByPhone(c.Request().Context(), phone); err == nil {
			r.ID = u.ID
		} else {
			r.ID = "u-" + randomHex(6)
		}
	}
	u := engine.User{ID: r.ID, Phone: phone, Language: lang, CardToken: r.CardToken, CardLast4: r.CardLast4, CardKind: kind, Channel: r.Channel, PINHash: pinHash,
		Channels: r.Channels, LeadTime: lead, CallsInQuietHours: r.CallsInQuietHours}
	put, status, msg := a.Runner.Registry.PutUser, http.StatusCreated, "user registered"
	if mustExist {
		put, status, msg = a.Runner.Registry.UpdateUser, http.StatusOK, "user updated"
	}
	switch err := put(c.Request().Context(), u); {
	case errors.Is(err, workflows.ErrExists):
		return fail(c, http.StatusConflict, "exists", existsMessage(err))
	case errors.Is(err, workflows.ErrNotFound):
		return fail(c, http.StatusNotFound, "not_found", "no such user")
	case errors.Is(err, workflows.ErrInvalidID):
		return fail(c, http.StatusBadRequest, "bad_id", "id must be 1 to 64 letters, digits, '-' or '_'")
	case err != nil:
		return err
	}
	a.Log.InfoContext(c.Request().Context(), msg, "user", u.ID, "phone", engine.MaskPhone(phone))
	return c.JSON(status, view(u))
}

// existsMessage names what is taken (phone or card) without the owner.
func existsMessage(err error) string {
	what, _, _ := strings.Cut(err.Error(), ":")
	return what + " is already registered to another user"
}

func (a *API) findUser(c echo.Context) error {
	phone, err := NormalizePhone(c.QueryParam("phone"), a.DefaultRegion)
	if err != nil {
		return fail(c, http.StatusBadRequest, "bad_phone", "phone: "+err.Error())
	}
	u, err := a.Runner.Registry.UserByPhone(c.Request().Context(), phone)
	if errors.Is(err, workflows.ErrNotFound) {
		return fail(c, http.StatusNotFound, "not_found", "no user with that phone")
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view(u))
}

func (a *API) getUser(c echo.Context) error {
	u, err := a.Runner.Registry.User(c.Request().Context(), c.Param("id"))
	if errors.Is(err, workflows.ErrNotFound) {
		return fail(c, http.StatusNotFound, "not_found", "no such user")
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view(u))
}

type blacklistRequest struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

func (a *API) blacklist(c echo.Context) error {
	var r blacklistRequest
	const usage = "kind (phone|card), value and reason are required"
	if ok, err := bind(c, &r, "bad_request", usage); !ok {
		return err
	}
	if r.Value == "" || r.Reason == "" {
		return fail(c, http.StatusBadRequest, "bad_request", usage)
	}
	if r.Kind == "phone" {
		p, err := NormalizePhone(r.Value, a.DefaultRegion)
		if err != nil {
			return fail(c, http.StatusBadRequest, "bad_phone", err.Error())
		}
		r.Value = p
	}
	if err := a.Runner.Registry.Blacklist(c.Request().Context(), r.Kind, r.Value, r.Reason); err != nil {
		return fail(c, http.StatusBadRequest, "bad_kind", err.Error())
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) unblacklist(c echo.Context) error {
	if err := a.Runner.Registry.Unblacklist(c.Request().Context(), c.Param("kind"), c.Param("value")); err != nil {
		return fail(c, http.StatusBadRequest, "bad_kind", err.Error())
	}
	return c.NoContent(http.StatusNoContent)
}

// convView is a conversation as the API shows it.
type convView struct {
	State   engine.State             `json:"state"`
	History []workflows.HistoryEntry `json:"history,omitempty"`
	// HistoryDropped counts entries dropped between the first and the
	// newest to keep the history within the settings' retention.history.
	HistoryDropped int64 `json:"history_dropped,omitempty"`
}

func masked(st engine.State) engine.State {
	st.CardToken = engine.MaskToken(st.CardToken)
	return st
}

func (a *API) conversations(c echo.Context) error {
	ctx := c.Request().Context()
	var ids []string
	var err error
	if p := c.QueryParam("phone"); p != "" {
		phone, perr := NormalizePhone(p, a.DefaultRegion)
		if perr != nil {
			return fail(c, http.StatusBadRequest, "bad_phone", perr.Error())
		}
		ids, err = a.phoneConversations(c, phone)
	} else {
		limit, _ := strconv.Atoi(c.QueryParam("limit"))
		if limit <= 0 || limit > 500 {
			limit = 50
		}
		ids, err = a.Runner.Store.Recent(ctx, int64(limit))
	}
	if err != nil {
		return err
	}
	out := []engine.State{}
	for _, id := range ids {
		st, err := a.Runner.Store.Get(ctx, id)
		if errors.Is(err, workflows.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		out = append(out, masked(st))
	}
	return c.JSON(http.StatusOK, map[string]any{"conversations": out})
}

// phoneConversations lists a phone's recent conversations, open or not.
func (a *API) phoneConversations(c echo.Context, phone string) ([]string, error) {
	ctx := c.Request().Context()
	ids, err := a.Runner.Store.Recent(ctx, 500)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		st, err := a.Runner.Store.Get(ctx, id)
		if err == nil && st.Phone == phone {
			out = append(out, id)
		}
	}
	return out, nil
}

func (a *API) conversation(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := a.Runner.Store.Get(ctx, c.Param("id"))
	if errors.Is(err, workflows.ErrNotFound) {
		return fail(c, http.StatusNotFound, "not_found", "no such conversation")
	} else if err != nil {
		return err
	}
	h, err := a.Runner.Store.History(ctx, st.ID)
	if err != nil {
		return err
	}
	dropped, err := a.Runner.Store.HistoryDropped(ctx, st.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, convView{State: masked(st), History: h, HistoryDropped: dropped})
}

func (a *API) alerts(c echo.Context) error {
	al, err := a.Runner.Registry.Alerts(c.Request().Context(), 100)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"alerts": al})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
