package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"

	"ppprenew/workflows/engine"
)

// names maps a scenario's phone numbers, meter ids and cards to the values
// of one run, so runs never share them, and back for display.
type names struct {
	phones map[Phone]string  // scenario -> run
	meters map[string]string // scenario -> run
	cards  map[string]string // world card id or driver phone -> gateway token
	back   *strings.Replacer
}

// taken remembers every value handed out by this process, so parallel
// scenarios never draw the same one.
var taken = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

func claim(v string) bool {
	taken.Lock()
	defer taken.Unlock()
	if taken.m[v] {
		return false
	}
	taken.m[v] = true
	return true
}

// randomMobile is a random valid Hong Kong mobile number.
func randomMobile() string {
	for {
		first := []byte("569")[rand.IntN(3)]
		n := fmt.Sprintf("+852%c%07d", first, rand.IntN(10_000_000))
		pn, err := phonenumbers.Parse(n, "")
		if err != nil || !phonenumbers.IsValidNumberForRegion(pn, "HK") {
			continue
		}
		if t := phonenumbers.GetNumberType(pn); t != phonenumbers.MOBILE {
			continue
		}
		return n
	}
}

const idChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomSuffix() string {
	b := make([]byte, 6)
	for i := range b {
		b[i] = idChars[rand.IntN(len(idChars))]
	}
	return string(b)
}

// scenarioPhones lists every phone number a scenario writes.
func scenarioPhones(sc *Scenario) []Phone {
	seen := map[Phone]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.String:
			if v.Type() == phoneType && v.String() != "" {
				seen[Phone(v.String())] = true
			}
		}
	}
	walk(reflect.ValueOf(sc.World))
	for _, s := range sc.Steps {
		walk(reflect.ValueOf(s))
		if s.Fault != nil && validPhone(s.Fault.CardOf) {
			seen[Phone(s.Fault.CardOf)] = true
		}
	}
	out := make([]Phone, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// newNames draws the run's phone numbers, checking with the world and the
// server that each is unused, and re-rolling when not.
func newNames(ctx context.Context, c *client, sc *Scenario) (*names, error) {
	n := &names{phones: map[Phone]string{}, meters: map[string]string{}, cards: map[string]string{}}
	for _, p := range scenarioPhones(sc) {
		var got string
		for try := 0; try < 20 && got == ""; try++ {
			cand := randomMobile()
			if !claim(cand) {
				continue
			}
			used, err := phoneUsed(ctx, c, cand)
			if err != nil {
				return nil, err
			}
			if !used {
				got = cand
			}
		}
		if got == "" {
			return nil, fmt.Errorf("no unused phone number found for %s", engine.MaskPhone(string(p)))
		}
		n.phones[p] = got
	}
	n.rebuild()
	return n, nil
}

// phoneUsed reports whether the world has texted the number or the server
// knows it.
func phoneUsed(ctx context.Context, c *client, phone string) (bool, error) {
	var msgs []any
	if err := c.world(ctx, "GET", "/phones/"+url.PathEscape(phone)+"/messages", nil, &msgs); err != nil {
		return false, err
	}
	if len(msgs) > 0 {
		return true, nil
	}
	err := c.admin(ctx, "GET", "/users?phone="+url.QueryEscape(phone), nil, nil)
	switch {
	case err == nil:
		return true, nil
	case status(err) != 404:
		return false, err
	}
	var list struct {
		Conversations []any `json:"conversations"`
	}
	if err := c.admin(ctx, "GET", "/conversations?phone="+url.QueryEscape(phone), nil, &list); err != nil {
		return false, err
	}
	return len(list.Conversations) > 0, nil
}

// meterID draws the run's id for a scenario meter; the caller checks it is
// free by creating it.
func (n *names) meterID(id string) string {
	for {
		cand := id + "-" + randomSuffix()
		if claim(cand) {
			n.meters[id] = cand
			n.rebuild()
			return cand
		}
	}
}

func (n *names) rebuild() {
	var pairs []string
	for s, r := range n.phones {
		pairs = append(pairs, r, string(s))
	}
	for s, r := range n.meters {
		pairs = append(pairs, r, s)
	}
	for s, r := range n.cards {
		pairs = append(pairs, r, "card "+s)
	}
	n.back = strings.NewReplacer(pairs...)
}

// phone is the run's number for a scenario number.
func (n *names) phone(p Phone) string { return n.phones[p] }

// show maps run values in s back to the scenario's names.
func (n *names) show(s string) string {
	if n == nil || n.back == nil {
		return s
	}
	return n.back.Replace(s)
}

// mask hides a scenario phone number as the logs do.
func mask(p Phone) string { return engine.MaskPhone(string(p)) }
