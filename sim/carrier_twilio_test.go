package sim

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

func TestTwilioCreateFetchAndCallbacks(t *testing.T) {
	h := newHarness(t)
	api := h.api()
	cb := h.hook.srv.URL + "/twilio/status?conv=c1&v=2"

	m, err := h.send(api, testPlatform, testPhone, "Your meter expires in 5 min. Reply 1 to extend.", cb)
	if err != nil {
		t.Fatalf("CreateMessage: %v", err)
	}
	if m.Sid == nil || !strings.HasPrefix(*m.Sid, "SM") || len(*m.Sid) != 34 {
		t.Fatalf("sid = %v, want SM + 32 hex", m.Sid)
	}
	checks := map[string][2]string{
		"status":       {*m.Status, "queued"},
		"direction":    {*m.Direction, "outbound-api"},
		"to":           {*m.To, testPhone},
		"from":         {*m.From, testPlatform},
		"num_segments": {*m.NumSegments, "1"},
		"account_sid":  {*m.AccountSid, h.cfg.AccountSID},
		"api_version":  {*m.ApiVersion, "2010-04-01"},
		"uri":          {*m.Uri, "/2010-04-01/Accounts/" + h.cfg.AccountSID + "/Messages/" + *m.Sid + ".json"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if m.Price != nil || m.ErrorCode != nil || m.DateSent != nil {
		t.Errorf("price/error_code/date_sent should be null on create: %v %v %v", m.Price, m.ErrorCode, m.DateSent)
	}
	created, err := time.Parse(time.RFC1123Z, *m.DateCreated)
	if err != nil || !created.Equal(h.clock.Now()) {
		t.Errorf("date_created %q (%v), want %v in RFC 2822", *m.DateCreated, err, h.clock.Now())
	}

	hits := h.hook.waitHits(*m.Sid, 2)
	if got := statuses(hits); !slices.Equal(got, []string{"sent", "delivered"}) {
		t.Fatalf("callbacks = %v, want [sent delivered]", got)
	}
	for _, hh := range hits {
		if !hh.sigValid {
			t.Errorf("callback signature rejected by twilio-go's validator (url %s)", hh.url)
		}
		if hh.path != "/twilio/status" || !strings.Contains(hh.url, "conv=c1&v=2") {
			t.Errorf("callback url = %s", hh.url)
		}
		for k, want := range map[string]string{"SmsSid": *m.Sid, "AccountSid": h.cfg.AccountSID, "From": testPlatform,
			"To": testPhone, "ApiVersion": "2010-04-01"} {
			if got := hh.form.Get(k); got != want {
				t.Errorf("callback %s = %q, want %q", k, got, want)
			}
		}
		if hh.form.Get("SmsStatus") != hh.form.Get("MessageStatus") || hh.form.Has("ErrorCode") {
			t.Errorf("callback form %v", hh.form)
		}
		if hh.header.Get("I-Twilio-Idempotency-Token") == "" {
			t.Error("callback without I-Twilio-Idempotency-Token")
		}
	}

	got, err := api.FetchMessage(*m.Sid, nil)
	if err != nil {
		t.Fatalf("FetchMessage: %v", err)
	}
	if *got.Status != "delivered" || got.DateSent == nil {
		t.Fatalf("fetched status %q date_sent %v, want delivered with a date", *got.Status, got.DateSent)
	}
	_, err = api.FetchMessage("SM00000000000000000000000000000000", nil)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Code != 20404 || te.Status != 404 {
		t.Fatalf("fetch unknown sid err = %v, want 20404", err)
	}
}

func TestTwilioSegments(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		body string
		want string
	}{
		{strings.Repeat("a", 160), "1"},
		{strings.Repeat("a", 161), "2"},
		{strings.Repeat("續", 70), "1"},
		{strings.Repeat("續", 71), "2"},
	}
	for _, tt := range tests {
		m, err := h.send(h.api(), testPlatform, testPhone, tt.body, "")
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if *m.NumSegments != tt.want {
			t.Errorf("num_segments for %d runes = %s, want %s", len([]rune(tt.body)), *m.NumSegments, tt.want)
		}
	}
}

func TestTwilioListFiltersAndPaging(t *testing.T) {
	h := newHarness(t)
	api := h.api()
	other := "+85291110000"
	var sids []string
	for i := range 5 {
		m, err := h.send(api, testPlatform, testPhone, "msg "+string(rune('a'+i)), "")
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, *m.Sid)
		h.waitStatus(*m.Sid, StatusDelivered)
		h.clock.Advance(time.Minute)
	}
	if _, err := h.send(api, testPlatform2, other, "elsewhere", ""); err != nil {
		t.Fatal(err)
	}

	p := &openapi.ListMessageParams{}
	p.SetTo(testPhone)
	p.SetFrom(testPlatform)
	p.SetPageSize(2)
	list, err := api.ListMessage(p)
	if err != nil {
		t.Fatalf("ListMessage: %v", err)
	}
	var got []string
	for _, m := range list {
		got = append(got, *m.Sid)
	}
	want := slices.Clone(sids)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Fatalf("paged list = %v, want newest first %v", got, want)
	}

	start := time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		setup func(p *openapi.ListMessageParams)
		want  []string
	}{
		{"after third", func(p *openapi.ListMessageParams) { p.SetDateSentAfter(start.Add(2 * time.Minute)) },
			[]string{sids[4], sids[3], sids[2]}},
		{"before second", func(p *openapi.ListMessageParams) { p.SetDateSentBefore(start.Add(time.Minute)) },
			[]string{sids[1], sids[0]}},
		{"after future", func(p *openapi.ListMessageParams) { p.SetDateSentAfter(start.Add(time.Hour)) }, nil},
		{"same day", func(p *openapi.ListMessageParams) { p.SetDateSent(start.Add(5 * time.Hour)) },
			[]string{sids[4], sids[3], sids[2], sids[1], sids[0]}},
		{"other day", func(p *openapi.ListMessageParams) { p.SetDateSent(start.Add(24 * time.Hour)) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &openapi.ListMessageParams{}
			p.SetTo(testPhone)
			tt.setup(p)
			list, err := api.ListMessage(p)
			if err != nil {
				t.Fatalf("ListMessage: %v", err)
			}
			var got []string
			for _, m := range list {
				got = append(got, *m.Sid)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTwilioCreateRejections(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name       string
		user, pass string
		from, to   string
		body       string
		status     int
		code       int
	}{
		{"bad token", h.cfg.AccountSID, "wrongtoken", testPlatform, testPhone, "x", 401, 20003},
		{"bad account", "AC11111111111111111111111111111111", h.cfg.AuthToken, testPlatform, testPhone, "x", 401, 20003},
		{"to not e164", h.cfg.AccountSID, h.cfg.AuthToken, testPlatform, "91234567", "x", 400, 21211},
		{"to missing", h.cfg.AccountSID, h.cfg.AuthToken, testPlatform, "", "x", 400, 21604},
		{"from not owned", h.cfg.AccountSID, h.cfg.AuthToken, "+85258009999", testPhone, "x", 400, 21606},
		{"empty body", h.cfg.AccountSID, h.cfg.AuthToken, testPlatform, testPhone, "", 400, 21602},
		{"body too long", h.cfg.AccountSID, h.cfg.AuthToken, testPlatform, testPhone, strings.Repeat("a", 1601), 400, 21617},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.send(h.twilioAPI(tt.user, tt.pass, 5*time.Second), tt.from, tt.to, tt.body, "")
			var te *client.TwilioRestError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a TwilioRestError", err)
			}
			if te.Code != tt.code || te.Status != tt.status || te.MoreInfo == "" {
				t.Fatalf("error %+v, want code %d status %d", te, tt.code, tt.status)
			}
		})
	}
	if n := len(h.carrier.Messages()); n != 0 {
		t.Fatalf("%d messages recorded by rejected creates", n)
	}
}

func TestTwilioValidityPeriodFlag(t *testing.T) {
	h := newHarness(t)
	p := &openapi.CreateMessageParams{}
	p.SetFrom(testPlatform)
	p.SetTo(testPhone)
	p.SetBody("x")
	p.SetValidityPeriod(0)
	_, err := h.api().CreateMessage(p)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Code != codeInvalidValidity {
		t.Fatalf("ValidityPeriod=0 err = %v, want %d", err, codeInvalidValidity)
	}
}
