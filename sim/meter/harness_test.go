package meter_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
	"ppprenew/sim/meter"
	"ppprenew/workflows/redistest"
)

const adminToken = "test-admin-token"

type harness struct {
	t     *testing.T
	ctx   context.Context
	svc   *devicelink.Service
	sink  *devicelinktest.Sink
	clock *devicelinktest.Clock
	srv   *httptest.Server
	fleet *meter.Fleet
}

// newHarness runs a real device link (real Redis) behind an httptest echo
// server, and a fleet pointed at it. poll is the fleet's poll interval.
func newHarness(t *testing.T, poll time.Duration) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		ctx:   context.Background(),
		sink:  devicelinktest.NewSink(),
		clock: devicelinktest.NewClock(time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)),
	}
	cfg := devicelink.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	svc, err := devicelink.NewService(redistest.Client(t, redistest.DBSim), cfg, bytes.Repeat([]byte{9}, 32), h.sink, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	e := echo.New()
	svc.Register(e)
	svc.RegisterAdmin(e.Group("/admin/v1", func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("Authorization") != "Bearer "+adminToken {
				return c.NoContent(http.StatusUnauthorized)
			}
			return next(c)
		}
	}))
	h.srv = httptest.NewServer(e)
	t.Cleanup(h.srv.Close)
	h.fleet = meter.NewFleet(meter.Config{
		ServerURL: h.srv.URL, AdminURL: h.srv.URL + "/admin/v1", AdminToken: adminToken,
		PollInterval: poll, Clock: h.clock.Now,
	})
	t.Cleanup(h.fleet.Close)
	return h
}

// simOf is the SIM number the harness gives meter id: one number a meter.
func simOf(id string) string {
	f := fnv.New32a()
	f.Write([]byte(id))
	return fmt.Sprintf("+8526%07d", f.Sum32()%10_000_000)
}

func (h *harness) add(id string, bays ...string) *meter.Meter {
	h.t.Helper()
	m, err := h.fleet.Add(h.ctx, meter.Spec{ID: id, SIMNumber: simOf(id), Zone: "Central", Location: "Pedder St", Bays: bays})
	if err != nil {
		h.t.Fatalf("Add: %v", err)
	}
	return m
}

func (h *harness) tap(id, bay, card string, minutes int) devicelink.TxnRecord {
	h.t.Helper()
	r, err := h.fleet.Tap(h.ctx, id, bay, card, minutes, int64(minutes)*10)
	if err != nil {
		h.t.Fatalf("Tap: %v", err)
	}
	return r
}

func (h *harness) snapshot(id string) meter.Snapshot {
	h.t.Helper()
	s, ok := h.fleet.Get(id)
	if !ok {
		h.t.Fatalf("no meter %s", id)
	}
	return s
}

func (h *harness) bay(id, bay string) meter.BaySnapshot {
	h.t.Helper()
	for _, b := range h.snapshot(id).Bays {
		if b.Bay == bay {
			return b
		}
	}
	h.t.Fatalf("meter %s has no bay %s", id, bay)
	return meter.BaySnapshot{}
}

func (h *harness) state(id string) devicelink.CommandState {
	h.t.Helper()
	c, err := h.svc.Command(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Command(%s): %v", id, err)
	}
	return c.State
}

// countEvents counts event lines containing substr.
func countEvents(s meter.Snapshot, substr string) int {
	n := 0
	for _, e := range s.Events {
		if strings.Contains(e.What, substr) {
			n++
		}
	}
	return n
}
