package ivr_test

import (
	"encoding/xml"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"ppprenew/ivr"
	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/twiliohook"
)

func TestVoiceDuringStoreOutageApologisesAndHangsUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner := &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, now), Now: now, Log: log}
	metrics := ivr.NewMetrics()
	e := echo.New()
	hook := twiliohook.DefaultConfig()
	hook.PublicURL, hook.AuthToken = public, token
	cfg := ivr.DefaultConfig()
	cfg.PublicURL, cfg.From = public, "+85258001000"
	(&ivr.Webhooks{Config: cfg, Conversations: runner, Settings: set, Redis: rdb, Metrics: metrics, Now: now, Log: log}).
		Register(e.Group("/twilio", twiliohook.Middleware(hook)))
	apology, err := set.RenderVoice("en", "error", engine.MessageData{Operator: set.Operator, HelpContact: set.HelpContact})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		route, path string
	}{
		{route: "gather", path: "/twilio/voice/gather?step=2"},
		{route: "inbound", path: "/twilio/voice"},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			form := callForm("CA-outage-"+tt.route, "Digits", "1")
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(form.Encode()))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
			req.Header.Set("X-Twilio-Signature", sim.Sign(token, public+tt.path, form))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d %q, want 200", rec.Code, rec.Body)
			}
			root, err := ivr.ParseTwiMLForTest(rec.Body.String())
			if err != nil {
				t.Fatalf("unparseable TwiML %q: %v", rec.Body, err)
			}
			if err := ivr.CheckTwiMLForTest(root); err != nil {
				t.Fatalf("%v in %s", err, rec.Body)
			}
			var doc struct {
				XMLName xml.Name   `xml:"Response"`
				Say     []string   `xml:"Say"`
				Hangup  *struct{}  `xml:"Hangup"`
				Gather  []struct{} `xml:"Gather"`
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Say) != 1 || doc.Say[0] != apology || doc.Hangup == nil || len(doc.Gather) != 0 {
				t.Fatalf("TwiML %s, want the apology %q and a hangup", rec.Body, apology)
			}
			if n := testutil.ToFloat64(metrics.StoreUnavailable.WithLabelValues(tt.route)); n != 1 {
				t.Fatalf("ppp_voice_store_unavailable_total{route=%q} = %v, want 1", tt.route, n)
			}
		})
	}
}
