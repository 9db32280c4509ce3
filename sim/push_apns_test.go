package sim

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
)

func TestFakeAPNsAnswersLikeApple(t *testing.T) {
	okBody := `{"aps":{"alert":{"title":"T","body":"B"},"category":"RENEWAL"},"conv":"c-1"}`
	tests := []struct {
		name       string
		given      func(h *pushHarness)
		token      string
		header     map[string]string
		body       string
		wantStatus int
		wantReason string
	}{
		{name: "delivered", token: testAPNsToken, body: okBody, wantStatus: 200},
		{name: "unregistered", given: func(h *pushHarness) { _ = h.ps.Invalidate(testAPNsToken) }, token: testAPNsToken, body: okBody, wantStatus: 410, wantReason: "Unregistered"},
		{name: "bad device token", token: "0123", body: okBody, wantStatus: 400, wantReason: "BadDeviceToken"},
		{name: "bad apns-id", token: testAPNsToken, header: map[string]string{"apns-id": "nope"}, body: okBody, wantStatus: 400, wantReason: "BadMessageId"},
		{name: "empty payload", token: testAPNsToken, wantStatus: 400, wantReason: "PayloadEmpty"},
		{name: "payload too large", token: testAPNsToken, body: `{"aps":{"alert":"` + strings.Repeat("x", 4100) + `"}}`, wantStatus: 413, wantReason: "PayloadTooLarge"},
		{name: "unavailable", given: func(h *pushHarness) { _ = h.ps.InjectPushFault(PushFault{Provider: ProviderAPNs, Status: 503}) }, token: testAPNsToken, body: okBody, wantStatus: 503, wantReason: "ServiceUnavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newPushHarness(t)
			if tc.given != nil {
				tc.given(h)
			}
			r := h.apnsSend(tc.token, tc.header, tc.body)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			pushes := h.ps.Pushes(tc.token)
			if len(pushes) != 1 || pushes[0].Proto != "HTTP/2.0" || pushes[0].Status != tc.wantStatus {
				t.Fatalf("recorded %+v", pushes)
			}
			if tc.wantStatus == 200 {
				p := pushes[0]
				if p.ID == "" || r.header.Get("apns-id") != p.ID || p.Title != "T" || p.Body != "B" || p.Category != "RENEWAL" || p.Data["conv"] != "c-1" {
					t.Fatalf("push %+v, apns-id %q", p, r.header.Get("apns-id"))
				}
				return
			}
			var e struct {
				Reason    string `json:"reason"`
				Timestamp int64  `json:"timestamp"`
			}
			r.decode(t, &e)
			if e.Reason != tc.wantReason || (tc.wantStatus == 410) != (e.Timestamp > 0) {
				t.Fatalf("error %+v, want reason %s (timestamp only with 410)", e, tc.wantReason)
			}
		})
	}
}

func TestFakeAPNsChecksTopicAndProtocol(t *testing.T) {
	h := newPushHarness(t, func(c *PushConfig) { c.APNsTopic = "hk.ppp.app" })
	body := `{"aps":{"alert":"hi"}}`
	for _, tc := range []struct {
		topic  string
		status int
		reason string
	}{
		{"", 400, "MissingTopic"},
		{"com.other", 400, "DeviceTokenNotForTopic"},
		{"hk.ppp.app", 200, ""},
	} {
		r := h.apnsSend(testAPNsToken, map[string]string{"apns-topic": tc.topic}, body)
		if r.status != tc.status || (tc.reason != "" && !strings.Contains(string(r.body), tc.reason)) {
			t.Fatalf("topic %q: %d %s, want %d %s", tc.topic, r.status, r.body, tc.status, tc.reason)
		}
	}
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: h.ps.CertPool()}}}
	r := doRequest(t, h1, "POST", h.ps.APNsURL()+"/3/device/"+testAPNsToken, map[string]string{"apns-topic": "hk.ppp.app"}, body)
	if r.status != http.StatusHTTPVersionNotSupported {
		t.Fatalf("HTTP/1.1: %d, want 505", r.status)
	}
}
