package load

import (
	"context"
	"net/http"
	"time"

	"ppprenew/sim/control"
)

// client talks to the server's admin API and the world's control API.
type client struct{ *control.Client }

// statusError is an answer outside 2xx.
type statusError = control.StatusError

func (c *client) admin(ctx context.Context, method, path string, in, out any) error {
	return c.Admin(ctx, method, path, in, out)
}

func (c *client) world(ctx context.Context, method, path string, in, out any) error {
	return c.World(ctx, method, path, in, out)
}

func newClient(o Options) *client {
	return &client{control.New(o.Server, o.Sim, o.AdminToken,
		&http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}})}
}

// Wire shapes (only the fields used).
type (
	// serverInfo is GET /admin/v1/server.
	serverInfo struct {
		Carrier  string         `json:"carrier"`
		SMSRate  int            `json:"sms_rate"`
		SimURL   string         `json:"sim_url"`
		Settings serverSettings `json:"settings"`
	}
	serverSettings struct {
		LeadTime        string `json:"lead_time"`
		TimeZone        string `json:"time_zone"`
		DefaultLanguage string `json:"default_language"`
		Escalation      []struct {
			Channel string `json:"channel"`
		} `json:"escalation"`
		QuietHours struct {
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"quiet_hours"`
		Voice struct {
			PINRequired bool `json:"pin_required"`
		} `json:"voice"`
		Templates map[string]map[string]string `json:"templates"`
	}
	// worldInfo is GET /sim/v1/world.
	worldInfo struct {
		ServerURL          string `json:"server_url"`
		VoiceTick          string `json:"voice_tick"`
		MaxCallsInProgress int    `json:"max_calls_in_progress"`
	}
	phoneMessage struct {
		Sid         string    `json:"sid"`
		Body        string    `json:"body"`
		Status      string    `json:"status"`
		DateCreated time.Time `json:"date_created"`
	}
	inboundResult struct {
		WebhookStatus int    `json:"webhook_status"`
		WebhookError  string `json:"webhook_error"`
	}
	call struct {
		Sid         string    `json:"sid"`
		Direction   string    `json:"direction"`
		Status      string    `json:"status"`
		DateCreated time.Time `json:"date_created"`
		Ended       bool      `json:"ended"`
		Transcript  []struct {
			Kind string `json:"kind"`
			Text string `json:"text"`
		} `json:"transcript"`
	}
	push struct {
		At     time.Time         `json:"at"`
		Body   string            `json:"body"`
		Status int               `json:"status"`
		Data   map[string]string `json:"data"`
	}
	app struct {
		ID      string `json:"id"`
		Pushes  []push `json:"pushes"`
		Answers []struct {
			At     time.Time `json:"at"`
			Press  string    `json:"press"`
			Status int       `json:"status"`
			Error  string    `json:"error"`
		} `json:"answers"`
	}
	charge struct {
		CardToken string `json:"card_token"`
		Status    string `json:"status"`
	}
	received struct {
		ByCard map[string]int `json:"by_card"`
	}
	meterSnapshot struct {
		ID       string `json:"id"`
		Counters struct {
			RenewsExecuted int `json:"renews_executed"`
		} `json:"counters"`
	}
)
