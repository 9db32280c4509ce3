package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/sim"
)

// A tester empties the world and a sim-mode server without restarting
// either: the conversation, the driver, the meter, the texts and the card
// are gone, and the same names can be used again at once.
func TestResetEmptiesTheWorldAndTheSimServer(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply")
	h.conv(alice)

	var srv struct {
		DeletedKeys int `json:"deleted_keys"`
	}
	if s := h.admin("POST", "/reset", nil, &srv); s != 200 || srv.DeletedKeys == 0 {
		t.Fatalf("server reset: %d %+v", s, srv)
	}
	if s := h.simctl("POST", "/reset", nil, nil); s != 200 {
		t.Fatalf("world reset: %d", s)
	}
	var list struct {
		Conversations []any `json:"conversations"`
	}
	h.admin("GET", "/conversations?phone="+url.QueryEscape(alice), nil, &list)
	if len(list.Conversations) != 0 {
		t.Fatalf("conversations after reset: %v", list.Conversations)
	}
	if s := h.admin("GET", "/users?phone="+url.QueryEscape(alice), nil, nil); s != http.StatusNotFound {
		t.Fatalf("driver lookup after reset: %d, want 404", s)
	}
	if msgs := h.inbox(alice); len(msgs) != 0 {
		t.Fatalf("texts after reset: %s", bodies(msgs))
	}
	var c sim.Card
	if s := h.simctl("GET", "/cards/"+card, nil, &c); s != http.StatusNotFound {
		t.Fatalf("card after reset: %d, want 404", s)
	}
	var meters struct {
		Meters []any `json:"meters"`
	}
	h.simctl("GET", "/meters", nil, &meters)
	if len(meters.Meters) != 0 {
		t.Fatalf("meters after reset: %v", meters.Meters)
	}
	// The same names again, from scratch.
	card = h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply")
}

// With the real carrier the reset is refused and nothing is touched.
func TestResetIsRefusedWithTheRealCarrier(t *testing.T) {
	a := &App{cfg: Config{Carrier: "twilio"}}
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/admin/v1/reset", nil), rec)
	if err := a.resetSim(c); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d %s, want 403", rec.Code, rec.Body)
	}
}
