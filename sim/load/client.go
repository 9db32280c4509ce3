package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// client talks to the server's admin API and the world's control API.
type client struct {
	server, sim, token string
	hc                 *http.Client
}

// statusError is a non-2xx answer.
type statusError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, strings.TrimSpace(e.Body))
}

func (c *client) do(ctx context.Context, method, url, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	if res.StatusCode >= 300 {
		return &statusError{Method: method, URL: url, Status: res.StatusCode, Body: string(raw)}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return nil
}

func (c *client) admin(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, c.server+"/admin/v1"+path, c.token, in, out)
}

func (c *client) world(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, c.sim+"/sim/v1"+path, "", in, out)
}

func newClient(o Options) *client {
	return &client{server: strings.TrimRight(o.Server, "/"), sim: strings.TrimRight(o.Sim, "/"), token: o.AdminToken,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}}}
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
