package sms_test

import (
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"ppprenew/sms"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/twiliohook"
	"ppprenew/workflows/workflowstest"
)

// downRedis returns a client for a port nothing listens on.
func downRedis(t *testing.T) *redis.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestInboundDuringStoreOutageAsksToSendAgain(t *testing.T) {
	rdb := downRedis(t)
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	queue := workflowstest.NewQueue(rdb)
	runner := &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, now), Now: now, Log: log}
	metrics := sms.NewMetrics()
	v := &env{e: echo.New()}
	hook := twiliohook.DefaultConfig()
	hook.PublicURL, hook.AuthToken = public, token
	(&sms.Webhooks{Texts: runner, Redis: rdb, Metrics: metrics, Queue: runner.Store.Outbox(), DedupeTTL: 48 * time.Hour, Now: now, Log: log}).
		Register(v.e.Group("/twilio", twiliohook.Middleware(hook)))

	tests := []struct {
		body string
		want string // a word the answer must contain
	}{
		{body: "1", want: "Please send it again"},
		{body: "好", want: "請稍後再傳送一次"},
	}
	for i, tt := range tests {
		code, body := v.post(t, "/twilio/sms", inbound("SM3"+string(rune('0'+i)), phone, tt.body))
		if code != http.StatusOK {
			t.Fatalf("reply %q: status %d %q, want 200", tt.body, code, body)
		}
		var doc struct {
			XMLName  xml.Name `xml:"Response"`
			Messages []string `xml:"Message"`
		}
		if err := xml.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("reply %q: TwiML %q: %v", tt.body, body, err)
		}
		if len(doc.Messages) != 1 || !strings.Contains(doc.Messages[0], tt.want) {
			t.Fatalf("reply %q: messages %q, want one containing %q", tt.body, doc.Messages, tt.want)
		}
	}
	if n := testutil.ToFloat64(metrics.StoreUnavailable); n != 2 {
		t.Fatalf("ppp_sms_store_unavailable_total = %v, want 2", n)
	}
	if got := queue.Sends(); len(got) != 0 {
		t.Fatalf("sends %v, want none", got)
	}
}
