package sim

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
)

func TestInboundWebhook(t *testing.T) {
	h := newHarness(t)
	h.hook.respond(http.StatusOK, "<Response></Response>")
	var res InboundResult
	st := h.control("POST", "/sim/v1/phones/"+testPhone+"/sms", InboundSMS{Body: "1"}, &res)
	if st != 200 || res.WebhookStatus != 200 || res.Deliveries != 1 || res.WebhookBody != "<Response></Response>" {
		t.Fatalf("status %d result %+v", st, res)
	}
	hits := h.hook.hitsFor(res.MessageSid)
	if len(hits) != 1 {
		t.Fatalf("webhook hits = %d, want 1", len(hits))
	}
	hh := hits[0]
	if !hh.sigValid {
		t.Fatalf("inbound signature rejected by twilio-go's validator (url %s)", hh.url)
	}
	if hh.path != "/twilio/sms" || !strings.HasSuffix(hh.url, "?tenant=t1") {
		t.Fatalf("webhook url = %s", hh.url)
	}
	want := map[string]string{
		"MessageSid": res.MessageSid, "SmsSid": res.MessageSid, "SmsMessageSid": res.MessageSid,
		"AccountSid": h.cfg.AccountSID, "From": testPhone, "To": testPlatform, "Body": "1",
		"NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
		"FromCountry": "HK", "ToCountry": "HK",
	}
	for k, v := range want {
		if got := hh.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"ToState", "ToCity", "FromZip", "FromState", "FromCity", "ToZip"} {
		if !hh.form.Has(k) {
			t.Errorf("missing parameter %s", k)
		}
	}
	if hh.form.Has("MessagingServiceSid") || hh.form.Has("OptOutType") {
		t.Errorf("unexpected parameters in %v", hh.form)
	}
	if hh.header.Get("I-Twilio-Idempotency-Token") == "" || hh.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("headers = %v", hh.header)
	}
}

func TestInboundDuplicateDelivery(t *testing.T) {
	h := newHarness(t)
	var res InboundResult
	h.control("POST", "/sim/v1/phones/"+testPhone+"/sms", InboundSMS{To: testPlatform2, Body: "2", Duplicate: true}, &res)
	if res.Deliveries != 2 {
		t.Fatalf("deliveries = %d, want 2", res.Deliveries)
	}
	hits := h.hook.hitsFor(res.MessageSid)
	if len(hits) != 2 {
		t.Fatalf("hits = %d, want 2 with the same MessageSid", len(hits))
	}
	if hits[0].header.Get("I-Twilio-Idempotency-Token") != hits[1].header.Get("I-Twilio-Idempotency-Token") {
		t.Fatal("duplicate delivery changed the idempotency token")
	}
	if hits[1].form.Get("To") != testPlatform2 || !hits[1].sigValid {
		t.Fatalf("second delivery %v valid=%v", hits[1].form, hits[1].sigValid)
	}
}

func TestInboundRejections(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, path string
		in         InboundSMS
		status     int
	}{
		{"bad number", "/sim/v1/phones/12ab/sms", InboundSMS{Body: "1"}, 400},
		{"not a platform number", "/sim/v1/phones/" + testPhone + "/sms", InboundSMS{To: "+85258009999", Body: "1"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st := h.control("POST", tt.path, tt.in, nil); st != tt.status {
				t.Fatalf("status %d, want %d", st, tt.status)
			}
		})
	}
	// A number without "+" or percent-encoded is accepted.
	var res InboundResult
	if st := h.control("POST", "/sim/v1/phones/%2B85291234567/sms", InboundSMS{Body: "x"}, &res); st != 200 {
		t.Fatalf("encoded number status %d", st)
	}
	if st := h.control("POST", "/sim/v1/phones/85291234567/sms", InboundSMS{Body: "x"}, &res); st != 200 {
		t.Fatalf("bare number status %d", st)
	}
}

func TestInboundTwiMLReplyIsSent(t *testing.T) {
	h := newHarness(t)
	h.hook.respond(http.StatusOK, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks, renewed until 15:30</Message></Response>`)
	var res InboundResult
	h.control("POST", "/sim/v1/phones/"+testPhone+"/sms", InboundSMS{Body: "1"}, &res)
	if len(res.Replies) != 1 {
		t.Fatalf("replies = %v", res.Replies)
	}
	h.waitStatus(res.Replies[0], StatusDelivered)
	var pm []PhoneMessage
	h.control("GET", "/sim/v1/phones/"+testPhone+"/messages", nil, &pm)
	if len(pm) != 1 || pm[0].Body != "Thanks, renewed until 15:30" || pm[0].From != testPlatform {
		t.Fatalf("phone messages = %+v", pm)
	}
}

// STOP opts the handset out of that platform number only (21610 on the next
// send); START opts it back in.
func TestStopAndStart(t *testing.T) {
	h := newHarness(t)
	var res InboundResult
	h.control("POST", "/sim/v1/phones/"+testPhone+"/sms", InboundSMS{Body: " stop "}, &res)
	hits := h.hook.hitsFor(res.MessageSid)
	if len(hits) != 1 || hits[0].form.Get("OptOutType") != "STOP" || hits[0].form.Get("Body") != " stop " {
		t.Fatalf("STOP webhook = %+v", hits)
	}
	_, err := h.send(h.api(), testPlatform, testPhone, "Reply 1 to extend", "")
	var te *client.TwilioRestError
	if !errors.As(err, &te) || te.Code != 21610 {
		t.Fatalf("send after STOP: %v, want 21610", err)
	}
	if _, err := h.send(h.api(), testPlatform2, testPhone, "from the other number", ""); err != nil {
		t.Fatalf("other platform number must still reach the phone: %v", err)
	}
	var p Phone
	h.control("GET", "/sim/v1/phones/"+testPhone, nil, &p)
	if !slices.Equal(p.OptedOutFrom, []string{testPlatform}) {
		t.Fatalf("opted_out_from = %v", p.OptedOutFrom)
	}
	h.control("POST", "/sim/v1/phones/"+testPhone+"/sms", InboundSMS{Body: "START"}, &res)
	if got := h.hook.hitsFor(res.MessageSid)[0].form.Get("OptOutType"); got != "START" {
		t.Fatalf("START OptOutType = %q", got)
	}
	if _, err := h.send(h.api(), testPlatform, testPhone, "welcome back", ""); err != nil {
		t.Fatalf("send after START: %v", err)
	}
}

func TestKeywordOf(t *testing.T) {
	tests := []struct{ body, want string }{
		{"STOP", "STOP"}, {"stop", "STOP"}, {" Unsubscribe. ", "UNSUBSCRIBE"}, {"optout", "OPTOUT"},
		{"yes", "YES"}, {"unstop", "UNSTOP"}, {"help", "HELP"}, {"info", "INFO"},
		{"stop it", ""}, {"1", ""}, {"停止", ""},
	}
	for _, tt := range tests {
		if got := keywordOf(tt.body); got != tt.want {
			t.Errorf("keywordOf(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestPhoneMessagesSince(t *testing.T) {
	h := newHarness(t)
	var sids []string
	for _, b := range []string{"one", "two", "three"} {
		m, err := h.send(h.api(), testPlatform, testPhone, b, "")
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, *m.Sid)
	}
	if _, err := h.send(h.api(), testPlatform, "+85291110000", "not mine", ""); err != nil {
		t.Fatal(err)
	}
	var all, newer []PhoneMessage
	h.control("GET", "/sim/v1/phones/"+testPhone+"/messages", nil, &all)
	h.control("GET", "/sim/v1/phones/"+testPhone+"/messages?since="+sids[0], nil, &newer)
	var bodies []string
	for _, m := range all {
		bodies = append(bodies, m.Body)
	}
	if !slices.Equal(bodies, []string{"one", "two", "three"}) {
		t.Fatalf("all = %v", bodies)
	}
	if len(newer) != 2 || newer[0].Sid != sids[1] || newer[1].Sid != sids[2] {
		t.Fatalf("since = %+v", newer)
	}
	var msgs []Message
	h.control("GET", "/sim/v1/messages", nil, &msgs)
	if len(msgs) != 4 || len(msgs[0].History) == 0 {
		t.Fatalf("/sim/v1/messages = %d entries", len(msgs))
	}
}

func TestMaskNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+85291234567", "+852******67"},
		{"+14155550123", "+1********23"},
		{"+8613800138000", "+86*********00"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := maskNumber(tt.in); got != tt.want {
			t.Errorf("maskNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
