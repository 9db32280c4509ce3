package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Wire shapes of the simulator and admin API (only the fields shown).
type (
	card struct {
		Token        string `json:"token"`
		Kind         string `json:"kind"`
		Last4        string `json:"last4"`
		BalanceMinor int64  `json:"balance_minor"`
		Expired      bool   `json:"expired"`
		Blacklisted  bool   `json:"blacklisted"`
	}
	user struct {
		ID        string `json:"id"`
		Phone     string `json:"phone"`
		Language  string `json:"language"`
		CardToken string `json:"card_token"`
		CardLast4 string `json:"card_last4"`
		CardKind  string `json:"card_kind"`
	}
	phoneMessage struct {
		Sid         string    `json:"sid"`
		From        string    `json:"from"`
		Body        string    `json:"body"`
		Status      string    `json:"status"`
		ErrorCode   int       `json:"error_code"`
		NumSegments int       `json:"num_segments"`
		Encoding    string    `json:"encoding"`
		DateCreated time.Time `json:"date_created"`
	}
	inboundResult struct {
		MessageSid    string `json:"message_sid"`
		WebhookStatus int    `json:"webhook_status"`
		Deliveries    int    `json:"deliveries"`
		WebhookError  string `json:"webhook_error"`
	}
	charge struct {
		IdempotencyKey string    `json:"idempotency_key"`
		CardToken      string    `json:"card_token"`
		AmountMinor    int64     `json:"amount_minor"`
		Currency       string    `json:"currency"`
		Status         string    `json:"status"`
		Code           string    `json:"code"`
		CreatedAt      time.Time `json:"created_at"`
	}
	historyEntry struct {
		At      time.Time `json:"at"`
		Version int64     `json:"version"`
		Input   string    `json:"input"`
		From    string    `json:"from"`
		To      string    `json:"to"`
		Effects []string  `json:"effects"`
	}
	convState struct {
		ID        string    `json:"id"`
		Version   int64     `json:"version"`
		Phase     string    `json:"phase"`
		Phone     string    `json:"phone"`
		MeterID   string    `json:"meter_id"`
		Bay       string    `json:"bay"`
		PaidUntil time.Time `json:"paid_until"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	conversation struct {
		State   convState      `json:"state"`
		History []historyEntry `json:"history"`
	}
)

// print writes v as JSON or via the text function.
func (c *cli) print(v any, text func()) error {
	if c.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text()
	return nil
}

func (c *cli) printf(format string, a ...any) { fmt.Fprintf(c.out, format, a...) }

func parseAmount(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q has more than two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 {
		return 0, fmt.Errorf("amount %q is not like 12.50", s)
	}
	return w*100 + f, nil
}

func money(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

func (c *cli) userByPhone(ctx context.Context, phone string) (user, error) {
	var u user
	err := c.api.admin(ctx, "GET", "/users?phone="+url.QueryEscape(phone), nil, &u)
	return u, err
}

// simNumberFor is the SIM number meter add gives a meter without
// --sim-number: derived from the id, so each meter has its own and the
// platform's wake call reaches that meter. Two ids may still share one (one
// in ten million); the server then answers 409 and --sim-number settles it.
func simNumberFor(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("+8526%07d", h.Sum32()%10_000_000)
}

type meterSnapshot struct {
	ID       string `json:"id"`
	Location string `json:"location"`
	Zone     string `json:"zone"`
	Bays     []struct {
		Bay       string    `json:"bay"`
		PaidUntil time.Time `json:"paid_until"`
		Card      string    `json:"card"`
	} `json:"bays"`
	Applied      []string  `json:"applied"`
	LastExchange time.Time `json:"last_exchange"`
	LastError    string    `json:"last_error"`
	Events       []struct {
		At   time.Time `json:"at"`
		What string    `json:"what"`
	} `json:"events"`
}

// displayLoc is the time zone of printed times.
var displayLoc = time.Local

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(displayLoc).Format("15:04:05")
}

func (c *cli) inbox(ctx context.Context, phone, since string) ([]phoneMessage, error) {
	var msgs []phoneMessage
	path := "/phones/" + url.PathEscape(phone) + "/messages"
	if since != "" {
		path += "?since=" + url.QueryEscape(since)
	}
	err := c.api.simctl(ctx, "GET", path, nil, &msgs)
	return msgs, err
}

func (c *cli) printMessage(m phoneMessage) {
	status := m.Status
	if m.ErrorCode != 0 {
		status += fmt.Sprintf(" (error %d)", m.ErrorCode)
	}
	c.printf("%s  %s  [%s, %d %s segment(s)]\n    %s\n", clock(m.DateCreated), m.From, status, m.NumSegments, m.Encoding, m.Body)
}
