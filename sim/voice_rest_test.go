package sim

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"
)

func TestCallsCreateAndFetch(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.twiML("/voice", twiml.VoiceSay{Message: "Hello"}, twiml.VoiceHangup{})
	h.script(testPhone, VoiceScript{Answer: AnswerHuman, Rings: 2})

	p := h.withStatus(h.createParams(testPhone, "/voice"))
	p.SetTimeLimit(600)
	created, err := h.api().CreateCall(p)
	if err != nil {
		t.Fatalf("CreateCall: %v", err)
	}
	sid := *created.Sid
	if !strings.HasPrefix(sid, "CA") || len(sid) != 34 {
		t.Fatalf("sid = %q, want CA + 32 hex", sid)
	}
	for name, c := range map[string][2]string{
		"status":      {*created.Status, "queued"},
		"direction":   {*created.Direction, "outbound-api"},
		"to":          {*created.To, testPhone},
		"from":        {*created.From, testPlatform},
		"account_sid": {*created.AccountSid, h.cfg.AccountSID},
		"api_version": {*created.ApiVersion, "2010-04-01"},
		"uri":         {*created.Uri, "/2010-04-01/Accounts/" + h.cfg.AccountSID + "/Calls/" + sid + ".json"},
		"price_unit":  {*created.PriceUnit, "USD"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if created.Duration != nil || created.EndTime != nil || created.AnsweredBy != nil || created.Price != nil {
		t.Errorf("duration/end_time/answered_by/price should be null on create")
	}
	if d, err := time.Parse(time.RFC1123Z, *created.DateCreated); err != nil || !d.Equal(h.clock.Now()) {
		t.Errorf("date_created %q, want %v in RFC 2822", *created.DateCreated, h.clock.Now())
	}

	h.wait(sid)
	got, err := h.api().FetchCall(sid, nil)
	if err != nil {
		t.Fatalf("FetchCall: %v", err)
	}
	if *got.Status != "completed" || got.Duration == nil || got.EndTime == nil || got.StartTime == nil {
		t.Fatalf("fetched %+v, want completed with duration, start and end", got)
	}
	start, _ := time.Parse(time.RFC1123Z, *got.StartTime)
	end, _ := time.Parse(time.RFC1123Z, *got.EndTime)
	// Two rings of 6 s, then "Hello" (1 s) before the hang-up.
	if want := h.clock.Now().Add(13 * time.Second); !end.Equal(want) || !start.Equal(h.clock.Now()) || *got.Duration != "1" {
		t.Errorf("start %v end %v duration %s, want start %v end %v duration 1", start, end, *got.Duration, h.clock.Now(), want)
	}

	_, err = h.api().FetchCall("CA00000000000000000000000000000000", nil)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Code != 20404 || te.Status != 404 {
		t.Fatalf("fetch unknown sid err = %v, want 20404", err)
	}
}

func TestCallsCreateRejections(t *testing.T) {
	h := newVoiceHarness(t, nil)
	good := h.ivr.srv.URL + "/voice"
	tests := []struct {
		name   string
		pass   string
		set    func(p *openapi.CreateCallParams)
		status int
		code   int
	}{
		{"bad token", "wrongtoken", func(p *openapi.CreateCallParams) {}, 401, 20003},
		{"to missing", "", func(p *openapi.CreateCallParams) { p.To = nil }, 400, 21201},
		{"from missing", "", func(p *openapi.CreateCallParams) { p.From = nil }, 400, 21213},
		{"to not e164", "", func(p *openapi.CreateCallParams) { p.SetTo("91234567") }, 400, 21211},
		{"to impossible", "", func(p *openapi.CreateCallParams) { p.SetTo("+141555521") }, 400, 21217},
		{"from not owned", "", func(p *openapi.CreateCallParams) { p.SetFrom("+85258009999") }, 400, 21210},
		{"url missing", "", func(p *openapi.CreateCallParams) { p.Url = nil }, 400, 21205},
		{"url invalid", "", func(p *openapi.CreateCallParams) { p.SetUrl("ftp://example.com/x") }, 400, 21205},
		{"url relative", "", func(p *openapi.CreateCallParams) { p.SetUrl("/voice") }, 400, 21205},
		{"url and twiml", "", func(p *openapi.CreateCallParams) { p.SetTwiml("<Response/>") }, 400, 20001},
		{"bad event", "", func(p *openapi.CreateCallParams) {
			p.SetStatusCallback(good)
			p.SetStatusCallbackEvent([]string{"answered", "hungup"})
		}, 400, 21626},
		{"bad status callback", "", func(p *openapi.CreateCallParams) { p.SetStatusCallback("nope") }, 400, 21609},
		{"bad machine detection", "", func(p *openapi.CreateCallParams) { p.SetMachineDetection("Maybe") }, 400, 20001},
		{"bad method", "", func(p *openapi.CreateCallParams) { p.SetMethod("PUT") }, 400, 20001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.createParams(testPhone, "/voice")
			tt.set(p)
			pass := tt.pass
			if pass == "" {
				pass = h.cfg.AuthToken
			}
			hh := &harness{cfg: h.cfg, srv: h.srv}
			_, err := hh.twilioAPI(h.cfg.AccountSID, pass, 5*time.Second).CreateCall(p)
			var te *client.TwilioRestError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a TwilioRestError", err)
			}
			if te.Code != tt.code || te.Status != tt.status || te.MoreInfo == "" {
				t.Fatalf("error %+v, want code %d status %d", te, tt.code, tt.status)
			}
		})
	}
	if n := len(h.carrier.Calls()); n != 0 {
		t.Fatalf("%d calls recorded by rejected creates", n)
	}
}

func TestCallsList(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.twiML("/voice", twiml.VoiceHangup{})
	other := "+85291110000"
	h.script(other, VoiceScript{Answer: AnswerBusy})
	var sids []string
	for range 3 {
		sid := h.create(h.createParams(testPhone, "/voice"))
		h.wait(sid)
		sids = append(sids, sid)
		h.clock.Advance(time.Minute)
	}
	busy := h.create(h.createParams(other, "/voice"))
	h.wait(busy)

	all := func(p *openapi.ListCallParams) []string {
		t.Helper()
		list, err := h.api().ListCall(p)
		if err != nil {
			t.Fatalf("ListCall: %v", err)
		}
		out := []string{}
		for _, c := range list {
			out = append(out, *c.Sid)
		}
		return out
	}
	newestFirst := slices.Clone(sids)
	slices.Reverse(newestFirst)
	start := time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		set  func(p *openapi.ListCallParams)
		want []string
	}{
		{"to, paged by 2", func(p *openapi.ListCallParams) { p.SetTo(testPhone).SetPageSize(2) }, newestFirst},
		{"status busy", func(p *openapi.ListCallParams) { p.SetStatus("busy") }, []string{busy}},
		{"status completed from platform", func(p *openapi.ListCallParams) { p.SetStatus("completed").SetFrom(testPlatform) }, newestFirst},
		{"started after the second", func(p *openapi.ListCallParams) { p.SetTo(testPhone).SetStartTimeAfter(start.Add(time.Minute)) },
			[]string{sids[2], sids[1]}},
		{"other day", func(p *openapi.ListCallParams) { p.SetStartTime(start.Add(24 * time.Hour)) }, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &openapi.ListCallParams{}
			tt.set(p)
			if got := all(p); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCallsUpdateCancelWhileRinging(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.script(testPhone, VoiceScript{Answer: AnswerNoAnswer})
	p := h.withStatus(h.createParams(testPhone, "/voice"))
	p.SetTimeout(600)
	sid := h.create(p)
	waitUntil(t, func() bool { c, _ := h.carrier.Call(sid); return c.Status == CallRinging })

	up := &openapi.UpdateCallParams{}
	up.SetStatus("canceled")
	got, err := h.api().UpdateCall(sid, up)
	if err != nil {
		t.Fatalf("UpdateCall: %v", err)
	}
	if *got.Status != "canceled" {
		t.Fatalf("status after cancel = %s, want canceled", *got.Status)
	}
	call := h.wait(sid)
	if want := []string{"initiated", "ringing", "canceled"}; !slices.Equal(callStatuses(h.callbacks(sid)), want) {
		t.Fatalf("callbacks %v, want %v", callStatuses(h.callbacks(sid)), want)
	}
	if len(h.ivr.hitsFor("/voice")) != 0 || call.DurationS != 0 {
		t.Fatalf("a canceled call fetched TwiML or has a duration: %+v", call)
	}
	// Updating an ended call changes nothing; redirecting it is refused.
	if again, err := h.api().UpdateCall(sid, up); err != nil || *again.Status != "canceled" {
		t.Fatalf("second cancel = %v, %v", again, err)
	}
	redirect := &openapi.UpdateCallParams{}
	redirect.SetUrl(h.ivr.srv.URL + "/voice")
	_, err = h.api().UpdateCall(sid, redirect)
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Code != 21220 {
		t.Fatalf("redirect of an ended call err = %v, want 21220", err)
	}
}

func TestCallsUpdateRedirectAndHangup(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.twiML("/voice", twiml.VoiceGather{Timeout: "600", InnerElements: []twiml.Element{twiml.VoiceSay{Message: "Press a key"}}})
	h.ivr.twiML("/moved", twiml.VoiceSay{Message: "Moved on"}, twiml.VoicePause{Length: "600"})
	sid := h.create(h.createParams(testPhone, "/voice"))
	waitUntil(t, func() bool {
		c, _ := h.carrier.Call(sid)
		return len(c.Transcript) > 0 && c.Transcript[len(c.Transcript)-1].Kind == EntrySay
	})

	up := &openapi.UpdateCallParams{}
	up.SetUrl(h.ivr.srv.URL + "/moved")
	up.SetMethod("GET")
	if _, err := h.api().UpdateCall(sid, up); err != nil {
		t.Fatalf("UpdateCall Url: %v", err)
	}
	waitUntil(t, func() bool {
		c, _ := h.carrier.Call(sid)
		return len(c.Transcript) > 0 && c.Transcript[len(c.Transcript)-1].Kind == EntryPause
	})
	hang := &openapi.UpdateCallParams{}
	hang.SetStatus("completed")
	got, err := h.api().UpdateCall(sid, hang)
	if err != nil || *got.Status != "completed" {
		t.Fatalf("UpdateCall completed = %v, %v", got, err)
	}
	call := h.wait(sid)
	want := []string{"status:initiated", "status:ringing", "status:in-progress", "gather:input=dtmf timeout=600 finishOnKey=# numDigits=0 actionOnEmptyResult=false",
		"say:Press a key", "redirect:", "say:Moved on", "pause:600", "hangup:api", "status:completed"}
	if got := shape(call); !slices.Equal(got, want) {
		t.Fatalf("transcript\n got %q\nwant %q", got, want)
	}
	moved := h.ivr.hitsFor("/moved")
	if len(moved) != 1 || moved[0].method != http.MethodGet || !moved[0].sigValid || moved[0].params.Get("CallSid") != sid {
		t.Fatalf("redirected GET = %+v, want one signed GET with the call parameters", moved)
	}
}

func TestCallsInlineTwiml(t *testing.T) {
	h := newVoiceHarness(t, nil)
	p := &openapi.CreateCallParams{}
	p.SetTo(testPhone)
	p.SetFrom(testPlatform)
	p.SetTwiml(`<Response><Say language="en-GB">Inline</Say></Response>`)
	call := h.wait(h.create(p))
	if got, want := shape(call), []string{"status:initiated", "status:ringing", "status:in-progress", "say:Inline", "status:completed"}; !slices.Equal(got, want) {
		t.Fatalf("transcript %q, want %q", got, want)
	}
	if call.Transcript[3].Language != "en-GB" || len(call.Requests) != 0 {
		t.Fatalf("inline call %+v", call)
	}
}
