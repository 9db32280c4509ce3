package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/workflows"
	"ppprenew/workflows/admin"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

type api struct {
	e   *echo.Echo
	reg *workflows.Registry
}

func newAPI(t *testing.T) *api {
	t.Helper()
	rdb := redistest.Client(t, redistest.DBAdmin)
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner := &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, now),
		Now: now, Log: log}
	e := echo.New()
	(&admin.API{Runner: runner, DefaultRegion: "HK", Log: log}).Register(e.Group("/admin/v1"))
	return &api{e: e, reg: runner.Registry}
}

func (a *api) do(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, "/admin/v1"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func user(id, phone, card string) string {
	b, _ := json.Marshal(map[string]string{"id": id, "phone": phone, "language": "en", "card_token": card, "card_last4": "4242", "card_kind": "credit"})
	return string(b)
}

func TestPhoneChangeReleasesTheOldNumber(t *testing.T) {
	a := newAPI(t)
	if s, _ := a.do(t, "POST", "/users", user("", "+85291234567", "tok_a")); s != http.StatusCreated {
		t.Fatalf("register: %d", s)
	}
	_, found := a.do(t, "GET", "/users?phone=%2B85291234567", "")
	id, _ := found["id"].(string)
	if s, _ := a.do(t, "PUT", "/users/"+id, user("", "+85291234599", "tok_b")); s != http.StatusOK {
		t.Fatalf("change phone and card: %d", s)
	}
	if s, _ := a.do(t, "GET", "/users?phone=%2B85291234567", ""); s != http.StatusNotFound {
		t.Fatalf("old phone after the change: %d, want 404", s)
	}
	// The next registration of the old number is a new account.
	s, got := a.do(t, "POST", "/users", user("", "+85291234567", "tok_c"))
	if s != http.StatusCreated || got["id"] == id {
		t.Fatalf("newcomer with the old phone: %d %v, must not take over %s", s, got["id"], id)
	}
	u, err := a.reg.UserByCard(context.Background(), "tok_b")
	if err != nil || u.ID != id || u.Phone != "+85291234599" {
		t.Fatalf("the driver after the newcomer: %+v %v", u, err)
	}
	if _, err := a.reg.UserByCard(context.Background(), "tok_a"); err == nil {
		t.Fatal("the old card still finds a user")
	}
}

func TestUserRequests(t *testing.T) {
	tests := []struct {
		name         string
		givenMethod  string
		givenPath    string
		givenBody    string
		expectStatus int
		expectCode   string
	}{
		{"phone of another user", "POST", "/users", user("u-2", "+85291234567", "tok_z"), http.StatusConflict, "exists"},
		{"card of another user", "POST", "/users", user("u-2", "+85291234500", "tok_a"), http.StatusConflict, "exists"},
		{"phone of another user on change", "PUT", "/users/u-3", user("", "+85291234567", "tok_c"), http.StatusConflict, "exists"},
		{"id like a phone index", "POST", "/users", user("phone:+85291234500", "+85291234500", "tok_z"), http.StatusBadRequest, "bad_id"},
		{"id like a card index", "POST", "/users", user("card:tok_z", "+85291234500", "tok_z"), http.StatusBadRequest, "bad_id"},
		{"get unknown id", "GET", "/users/u-9", "", http.StatusNotFound, "not_found"},
		{"get malformed id", "GET", "/users/phone:+85291234567", "", http.StatusNotFound, "not_found"},
		{"put unknown id", "PUT", "/users/u-9", user("", "+85291234500", "tok_z"), http.StatusNotFound, "not_found"},
		{"put malformed id", "PUT", "/users/card:tok_a", user("", "+85291234500", "tok_z"), http.StatusNotFound, "not_found"},
		{"put id differing from the body's", "PUT", "/users/u-1", user("u-3", "+85291234567", "tok_a"), http.StatusBadRequest, "bad_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t)
			for _, u := range []string{user("u-1", "+85291234567", "tok_a"), user("u-3", "+85291234568", "tok_c")} {
				if s, _ := a.do(t, "POST", "/users", u); s != http.StatusCreated {
					t.Fatalf("register: %d", s)
				}
			}
			s, out := a.do(t, tt.givenMethod, tt.givenPath, tt.givenBody)
			if s != tt.expectStatus {
				t.Fatalf("status %d (%v), want %d", s, out, tt.expectStatus)
			}
			e, _ := out["error"].(map[string]any)
			if e["code"] != tt.expectCode {
				t.Fatalf("error %v, want code %q", out, tt.expectCode)
			}
			if u, err := a.reg.UserByPhone(context.Background(), "+85291234567"); err != nil || u.ID != "u-1" || u.CardToken != "tok_a" {
				t.Fatalf("u-1 after the request: %+v %v", u, err)
			}
		})
	}
}

func TestLargeBodiesAreRefused(t *testing.T) {
	big := `{"id":"u-1","phone":"+85291234567","language":"` + strings.Repeat("x", 2*admin.MaxBodyBytes) + `"}`
	for _, chunked := range []bool{false, true} {
		for _, route := range []struct{ method, path string }{{"POST", "/users"}, {"PUT", "/users/u-1"}, {"POST", "/blacklist"}} {
			a := newAPI(t)
			req := httptest.NewRequest(route.method, "/admin/v1"+route.path, strings.NewReader(big))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			if chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			a.e.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("%s %s (chunked %v): %d, want 413", route.method, route.path, chunked, rec.Code)
			}
		}
	}
}
