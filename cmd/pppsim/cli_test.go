package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"ppprenew/sim/meter"
)

// fakeSim answers the simulator's meter routes as sim/meter does, from the
// real Snapshot type, and records the meters added.
type fakeSim struct {
	mu    sync.Mutex
	added []map[string]any
}

func (f *fakeSim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/sim/v1/meters":
		list := []meter.Snapshot{{ID: "PM-1", Location: "Pedder St", Zone: "Central", Bays: []meter.BaySnapshot{{Bay: "1"}, {Bay: "2"}}}}
		_ = json.NewEncoder(w).Encode(map[string]any{"meters": list})
	case r.Method == http.MethodPost && r.URL.Path == "/sim/v1/meters":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.added = append(f.added, body)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(meter.Snapshot{ID: body["id"].(string)})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeSim) simNumbers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.added {
		s, _ := b["sim_number"].(string)
		out = append(out, s)
	}
	return out
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// runAt runs pppsim against a simulator at simURL and returns its output.
func runAt(t *testing.T, simURL string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"--sim", simURL, "--server", simURL, "--tz", "UTC"}, args...), &out)
	return out.String(), err
}

func TestMeterListDecodesTheSimulatorsAnswer(t *testing.T) {
	srv := httptest.NewServer(&fakeSim{})
	defer srv.Close()
	out, err := runAt(t, srv.URL, "meter", "list")
	if err != nil {
		t.Fatalf("meter list: %v", err)
	}
	if !strings.Contains(out, "PM-1") || !strings.Contains(out, "Pedder St") || !strings.Contains(out, "2 bays") {
		t.Errorf("output = %q", out)
	}
}

func TestMeterListAgainstTheFleetRoutes(t *testing.T) {
	e := echo.New()
	fleet := meter.NewFleet(meter.Config{ServerURL: "http://127.0.0.1:1", AdminURL: "http://127.0.0.1:1/admin/v1"})
	defer fleet.Close()
	fleet.Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	out, err := runAt(t, srv.URL, "meter", "list", "--json")
	if err != nil {
		t.Fatalf("meter list: %v", err)
	}
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("output = %q, want an empty JSON list", out)
	}
}

func TestJSONFlagAnywhere(t *testing.T) {
	srv := httptest.NewServer(&fakeSim{})
	defer srv.Close()
	for _, args := range [][]string{
		{"--json", "meter", "list"},
		{"meter", "list", "--json"},
		{"meter", "list", "-json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := runAt(t, srv.URL, args...)
			if err != nil {
				t.Fatal(err)
			}
			var got []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0].ID != "PM-1" {
				t.Errorf("output = %q (%v), want JSON with PM-1", out, err)
			}
		})
	}
}

func TestBadCommandLinesAreUsageErrors(t *testing.T) {
	srv := httptest.NewServer(&fakeSim{})
	defer srv.Close()
	tests := []struct {
		name     string
		args     []string
		wantText string
	}{
		{"unknown global flag", []string{"--verbose", "meter", "list"}, "verbose"},
		{"unknown command flag", []string{"meter", "list", "--bogus"}, "bogus"},
		{"unknown flag of a command with flags", []string{"meter", "add", "--id", "M-1", "--colour", "red"}, "colour"},
		{"unknown flag before a positional", []string{"meter", "show", "--bogus", "M-1"}, "bogus"},
		{"extra argument", []string{"meter", "list", "M-1"}, `"M-1"`},
		{"extra argument to a flags-only command", []string{"meter", "add", "--id", "M-1", "extra"}, `"extra"`},
		{"extra argument to a one-argument command", []string{"meter", "show", "M-1", "M-2"}, "meter show METER"},
		{"missing argument", []string{"meter", "show"}, "meter show METER"},
		{"missing required flag", []string{"meter", "add"}, "--id"},
		{"unknown command", []string{"meter", "paint"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runAt(t, srv.URL, tc.args...)
			if !errors.Is(err, errUsage) || exitCode(err) != 2 {
				t.Fatalf("err = %v (exit %d), want a usage error, exit 2", err, exitCode(err))
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("message %q does not say %q", err, tc.wantText)
			}
		})
	}
}

func TestAPIFailureIsNotAUsageError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"error":"meter: already exists"}`)
	}))
	defer srv.Close()
	_, err := runAt(t, srv.URL, "meter", "add", "--id", "M-1")
	if err == nil || exitCode(err) != 1 {
		t.Errorf("err = %v (exit %d), want exit 1", err, exitCode(err))
	}
}

func TestMeterAddGivesEachMeterItsOwnSIMNumber(t *testing.T) {
	sim := &fakeSim{}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	for _, args := range [][]string{
		{"meter", "add", "--id", "M-1"},
		{"meter", "add", "--id", "M-2"},
		{"meter", "add", "--id", "M-2b"},
		{"meter", "add", "--id", "M-3", "--sim-number", "+85261230003"},
	} {
		if _, err := runAt(t, srv.URL, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	got := sim.simNumbers()
	if len(got) != 4 || got[3] != "+85261230003" {
		t.Fatalf("sim numbers = %v", got)
	}
	seen := map[string]bool{}
	for _, n := range got {
		if seen[n] || !e164.MatchString(n) {
			t.Errorf("sim numbers = %v: %q repeated or not E.164", got, n)
		}
		seen[n] = true
	}
	if again := simNumberFor("M-1"); again != got[0] {
		t.Errorf("simNumberFor(M-1) = %s, then %s: not stable", got[0], again)
	}
}
