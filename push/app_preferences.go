package push

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/workflows/engine"
)

// Preferences are what a driver may choose in the app, within what the
// operator allows.
type Preferences struct {
	// Language is en, zh-HK or zh-CN (the operator's languages).
	Language string `json:"language"`
	// Channels is the order in which to be reached: push, sms, voice.
	Channels []string `json:"channels"`
	// LeadTime is how long before the paid time ends to be told, e.g. "15m".
	LeadTime string `json:"lead_time"`
	// CallsInQuietHours lets calls reach the driver during quiet hours.
	CallsInQuietHours bool `json:"calls_in_quiet_hours"`
}

// Error codes of the preferences route.
const codeInvalidPreferences = "invalid_preferences"

func (a *AppAPI) registerPreferences(g *echo.Group, mw []echo.MiddlewareFunc) {
	g.GET("/preferences", a.handleGetPreferences, mw...)
	g.PUT("/preferences", a.handlePutPreferences, mw...)
}

func preferencesOf(u engine.User, set *engine.Settings) Preferences {
	p := Preferences{Language: u.Language, Channels: u.Channels, CallsInQuietHours: u.CallsInQuietHours,
		LeadTime: set.ClampLeadTime(u.LeadTime).String()}
	if len(p.Channels) == 0 && u.Channel != "" {
		p.Channels = []string{u.Channel}
	}
	return p
}

func (a *AppAPI) handleGetPreferences(c echo.Context) error {
	u, err := a.Conversations.Driver(c.Request().Context(), c.Get(ctxUser).(string))
	if err != nil {
		return a.internal(c, "load user", err)
	}
	return c.JSON(http.StatusOK, preferencesOf(u, a.Settings))
}

// handlePutPreferences replaces the driver's preferences; new stays use them.
func (a *AppAPI) handlePutPreferences(c echo.Context) error {
	ctx := c.Request().Context()
	var p Preferences
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxRequestBody))
	if err != nil || json.Unmarshal(body, &p) != nil {
		return fail(c, http.StatusBadRequest, codeInvalidJSON, "the body must be JSON preferences")
	}
	set := a.Settings
	if p.Language != "" && set.Language(p.Language) != p.Language {
		return fail(c, http.StatusBadRequest, codeInvalidPreferences, "language must be one of "+strings.Join(set.Languages(), ", "))
	}
	for _, ch := range p.Channels {
		if ch != engine.ChannelPush && ch != engine.ChannelSMS && ch != engine.ChannelVoice {
			return fail(c, http.StatusBadRequest, codeInvalidPreferences, "channels are push, sms or voice")
		}
	}
	var lead time.Duration
	if p.LeadTime != "" {
		d, err := time.ParseDuration(p.LeadTime)
		r := set.LeadTimeRange
		if err != nil || d < r.Min || d > r.Max {
			return fail(c, http.StatusBadRequest, codeInvalidPreferences, fmt.Sprintf("lead_time must be between %s and %s", r.Min, r.Max))
		}
		lead = d
	}
	u, err := a.Conversations.UpdatePreferences(ctx, c.Get(ctxUser).(string), func(u *engine.User) {
		if p.Language != "" {
			u.Language = p.Language
		}
		if p.Channels != nil {
			u.Channels, u.Channel = p.Channels, ""
		}
		if p.LeadTime != "" {
			u.LeadTime = lead
		}
		u.CallsInQuietHours = p.CallsInQuietHours
	})
	if err != nil {
		return a.internal(c, "save preferences", err)
	}
	return c.JSON(http.StatusOK, preferencesOf(u, set))
}
