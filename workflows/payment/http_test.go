package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a hand-written gateway for client tests. onCharge decides
// each POST; lookups answer from what onCharge recorded.
type fakeServer struct {
	t        *testing.T
	mu       sync.Mutex
	posts    int
	gets     int
	recorded map[string]recorded
	onCharge func(w http.ResponseWriter, r *http.Request, body chargeBody, s *fakeServer)
}

type recorded struct {
	status int
	body   string
}

func newFakeServer(t *testing.T, onCharge func(w http.ResponseWriter, r *http.Request, body chargeBody, s *fakeServer)) (*fakeServer, *httptest.Server) {
	t.Helper()
	fs := &fakeServer{t: t, recorded: map[string]recorded{}, onCharge: onCharge}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return fs, srv
}

func (s *fakeServer) record(key string, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded[key] = recorded{status, body}
}

func (s *fakeServer) counts() (posts, gets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts, s.gets
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer k1" {
		writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"bad key"}}`)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/charges":
		s.mu.Lock()
		s.posts++
		s.mu.Unlock()
		var body chargeBody
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.t.Errorf("decode charge body: %v", err)
		}
		if got := r.Header.Get("Idempotency-Key"); got != body.IdempotencyKey {
			s.t.Errorf("Idempotency-Key header %q, body key %q", got, body.IdempotencyKey)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			s.t.Errorf("Content-Type = %q", ct)
		}
		s.onCharge(w, r, body, s)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/charges/"):
		s.mu.Lock()
		s.gets++
		rec, ok := s.recorded[strings.TrimPrefix(r.URL.Path, "/v1/charges/")]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, `{"error":{"code":"not_found","message":"no such key"}}`)
			return
		}
		writeJSON(w, rec.status, rec.body)
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func successBody(key string) string {
	return fmt.Sprintf(`{"id":"ch_1","idempotency_key":%q,"status":"succeeded","amount_minor":1500,"currency":"HKD","created_at":"2030-01-02T03:04:05Z"}`, key)
}

func newClient(base string, timeout time.Duration) *HTTPGateway {
	cfg := DefaultConfig()
	cfg.BaseURL = base
	cfg.APIKey = "k1"
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	return NewHTTPGateway(cfg, nil)
}

func req(key string) ChargeRequest {
	return ChargeRequest{IdempotencyKey: key, CardToken: "tok_1", Currency: "HKD", Description: "bay 12", AmountMinor: 1500}
}

func TestChargeSuccess(t *testing.T) {
	fs, srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, b chargeBody, s *fakeServer) {
		if b.CardToken != "tok_1" || b.AmountMinor != 1500 || b.Currency != "HKD" || b.Description != "bay 12" {
			t.Errorf("unexpected body %+v", b)
		}
		s.record(b.IdempotencyKey, 200, successBody(b.IdempotencyKey))
		writeJSON(w, 200, successBody(b.IdempotencyKey))
	})
	ch, err := newClient(srv.URL+"/", 0).Charge(context.Background(), req("k-ok"))
	if err != nil {
		t.Fatalf("Charge: %v", err)
	}
	want := Charge{ID: "ch_1", IdempotencyKey: "k-ok", Status: StatusSucceeded, AmountMinor: 1500, Currency: "HKD",
		CreatedAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	if ch != want {
		t.Fatalf("charge = %+v, want %+v", ch, want)
	}
	if posts, gets := fs.counts(); posts != 1 || gets != 0 {
		t.Fatalf("posts=%d gets=%d, want 1 and 0", posts, gets)
	}
}

func TestChargeErrorsMapToSentinels(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"declined", 402, `{"error":{"code":"declined","message":"do not honour"}}`, ErrDeclined},
		{"insufficient", 402, `{"error":{"code":"insufficient_funds","message":"balance 100"}}`, ErrInsufficientFunds},
		{"expired", 402, `{"error":{"code":"expired_card","message":"expired 01/29"}}`, ErrCardExpired},
		{"blacklisted", 402, `{"error":{"code":"blacklisted","message":"stolen"}}`, ErrBlacklisted},
		{"debit", 402, `{"error":{"code":"debit_not_supported","message":"debit card"}}`, ErrDebitNotSupported},
		{"unknown decline code", 402, `{"error":{"code":"do_not_honor","message":"issuer says no"}}`, ErrDeclined},
		{"mismatch", 409, `{"error":{"code":"idempotency_mismatch","message":"different body"}}`, ErrIdempotencyMismatch},
		{"invalid", 400, `{"error":{"code":"invalid_request","message":"amount"}}`, ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, b chargeBody, s *fakeServer) {
				writeJSON(w, tt.status, tt.body)
			})
			_, err := newClient(srv.URL, 0).Charge(context.Background(), req("k"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ej errorJSON
			_ = json.Unmarshal([]byte(tt.body), &ej)
			if !strings.Contains(err.Error(), ej.Error.Message) {
				t.Fatalf("err %q does not carry the gateway message %q", err, ej.Error.Message)
			}
			if Retryable(err) {
				t.Fatalf("Retryable(%v) = true", err)
			}
			if posts, gets := fs.counts(); posts != 1 || gets != 0 {
				t.Fatalf("posts=%d gets=%d, want 1 and 0", posts, gets)
			}
		})
	}
}

func TestChargeBadKey(t *testing.T) {
	_, srv := newFakeServer(t, nil)
	cfg := DefaultConfig()
	cfg.BaseURL, cfg.APIKey = srv.URL, "wrong"
	_, err := NewHTTPGateway(cfg, nil).Charge(context.Background(), req("k"))
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
}

// The gateway records the charge but answers only after the client gave up:
// the client must resolve by Lookup and never post again.
func TestChargeTimeoutResolvedByLookup(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	fs, srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, b chargeBody, s *fakeServer) {
		s.record(b.IdempotencyKey, 200, successBody(b.IdempotencyKey))
		select {
		case <-r.Context().Done():
		case <-done:
		}
		writeJSON(w, 200, successBody(b.IdempotencyKey))
	})
	ch, err := newClient(srv.URL, 200*time.Millisecond).Charge(context.Background(), req("k-slow"))
	if err != nil {
		t.Fatalf("Charge: %v", err)
	}
	if ch.ID != "ch_1" || ch.IdempotencyKey != "k-slow" {
		t.Fatalf("charge = %+v", ch)
	}
	if posts, gets := fs.counts(); posts != 1 || gets != 1 {
		t.Fatalf("posts=%d gets=%d, want exactly one POST and one lookup", posts, gets)
	}
}

// A timed-out charge whose recorded outcome is a decline returns the decline.
func TestChargeTimeoutResolvesToDecline(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	_, srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, b chargeBody, s *fakeServer) {
		s.record(b.IdempotencyKey, 402, `{"error":{"code":"expired_card","message":"expired"}}`)
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	_, err := newClient(srv.URL, 200*time.Millisecond).Charge(context.Background(), req("k-dec"))
	if !errors.Is(err, ErrCardExpired) {
		t.Fatalf("err = %v, want ErrCardExpired", err)
	}
}

func TestChargeUnavailable(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"503 not recorded", 503, `{"error":{"code":"unavailable","message":"try later"}}`},
		{"500 not recorded", 500, `oops`},
		{"502 html", 502, `<html>bad gateway</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, b chargeBody, s *fakeServer) {
				writeJSON(w, tt.status, tt.body)
			})
			_, err := newClient(srv.URL, 0).Charge(context.Background(), req("k-u"))
			if !errors.Is(err, ErrUnavailable) || !Retryable(err) {
				t.Fatalf("err = %v, want retryable ErrUnavailable", err)
			}
			if posts, gets := fs.counts(); posts != 1 || gets != 1 {
				t.Fatalf("posts=%d gets=%d, want one POST then one lookup", posts, gets)
			}
		})
	}
}

// A 5xx whose charge was in fact recorded resolves to the recorded charge.
func TestCharge5xxButRecorded(t *testing.T) {
	_, srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, b chargeBody, s *fakeServer) {
		s.record(b.IdempotencyKey, 200, successBody(b.IdempotencyKey))
		writeJSON(w, 502, `bad gateway`)
	})
	ch, err := newClient(srv.URL, 0).Charge(context.Background(), req("k-r"))
	if err != nil || ch.Status != StatusSucceeded {
		t.Fatalf("Charge = %+v, %v; want the recorded charge", ch, err)
	}
}

func TestChargeConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	_, err := newClient(base, 0).Charge(context.Background(), req("k"))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestLookup(t *testing.T) {
	fs, srv := newFakeServer(t, nil)
	fs.record("k-ok", 200, successBody("k-ok"))
	fs.record("k-dec", 402, `{"error":{"code":"blacklisted","message":"cloned"}}`)
	c := newClient(srv.URL, 0)
	if ch, err := c.Lookup(context.Background(), "k-ok"); err != nil || ch.IdempotencyKey != "k-ok" {
		t.Fatalf("Lookup(k-ok) = %+v, %v", ch, err)
	}
	if _, err := c.Lookup(context.Background(), "k-dec"); !errors.Is(err, ErrBlacklisted) {
		t.Fatalf("Lookup(k-dec) err = %v", err)
	}
	if _, err := c.Lookup(context.Background(), "k-none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup(k-none) err = %v", err)
	}
}

func TestChargeRequiresKey(t *testing.T) {
	_, err := newClient("http://127.0.0.1:1", 0).Charge(context.Background(), req(""))
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("err = %v", err)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{ErrUnavailable, true},
		{fmt.Errorf("x: %w", ErrUnavailable), true},
		{ErrDeclined, false},
		{ErrNotFound, false},
		{errors.New("other"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.BaseURL, ok.APIKey = "http://127.0.0.1:8080/pay", "k"
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr bool
	}{
		{"valid", func(*Config) {}, false},
		{"no base", func(c *Config) { c.BaseURL = "" }, true},
		{"relative base", func(c *Config) { c.BaseURL = "/pay" }, true},
		{"no key", func(c *Config) { c.APIKey = "" }, true},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			if err := c.Validate(); (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}
