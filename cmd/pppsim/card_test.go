package main

import (
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"ppprenew/sim"
)

// A tester can make the gateway take the next charge but answer it late and
// hide its records, to try an unknown charge outcome.
func TestCardSetFaultsReachTheGateway(t *testing.T) {
	g := sim.NewGateway(sim.Config{})
	e := echo.New()
	g.Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	c, err := g.AddCard(sim.Card{})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runAt(t, srv.URL, "card", "set", c.Token, "--slow-next-ms", "7000", "--records-unavailable-next", "40"); err != nil {
		t.Fatalf("card set: %v (%s)", err, out)
	}
	got, err := g.Card(c.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.RecordsUnavailableNext != 40 || got.SlowNext != (sim.SlowSpec{Count: 1, DelayMS: 7000}) {
		t.Fatalf("card %+v, want the faults set", got)
	}
}
