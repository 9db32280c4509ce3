package sim

import (
	"net/http"
	"strings"
	"testing"
)

func TestFakeFCMAnswersLikeGoogle(t *testing.T) {
	tests := []struct {
		name       string
		given      func(h *pushHarness)
		project    string
		token      string
		auth       string
		wantStatus int
		wantGoogle string // error.status
		wantFCM    string // FcmError errorCode
		wantField  string // BadRequest field violation
	}{
		{name: "delivered", token: testFCMToken, wantStatus: 200},
		{name: "unregistered", given: func(h *pushHarness) { _ = h.ps.Invalidate(testFCMToken) }, token: testFCMToken, wantStatus: 404, wantGoogle: "NOT_FOUND", wantFCM: "UNREGISTERED"},
		{name: "malformed token", token: "abc", wantStatus: 400, wantGoogle: "INVALID_ARGUMENT", wantFCM: "INVALID_ARGUMENT", wantField: "message.token"},
		{name: "other project", project: "someone-else", token: testFCMToken, wantStatus: 404, wantGoogle: "NOT_FOUND"},
		{name: "internal fault", given: func(h *pushHarness) { _ = h.ps.InjectPushFault(PushFault{Provider: ProviderFCM, Status: 500}) }, token: testFCMToken, wantStatus: 500, wantGoogle: "INTERNAL", wantFCM: "INTERNAL"},
		{name: "quota fault", given: func(h *pushHarness) { _ = h.ps.InjectPushFault(PushFault{Provider: ProviderFCM, Status: 429}) }, token: testFCMToken, wantStatus: 429, wantGoogle: "RESOURCE_EXHAUSTED", wantFCM: "QUOTA_EXCEEDED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newPushHarness(t)
			if tc.given != nil {
				tc.given(h)
			}
			project := tc.project
			if project == "" {
				project = "ppp-sim"
			}
			r := h.fcmSend(project, tc.token, "")
			if r.status != tc.wantStatus {
				t.Fatalf("status %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			if tc.wantStatus == 200 {
				var ok struct{ Name string }
				r.decode(t, &ok)
				if !strings.HasPrefix(ok.Name, "projects/ppp-sim/messages/0:") {
					t.Fatalf("name %q", ok.Name)
				}
				p := h.ps.Pushes(tc.token)
				if len(p) != 1 || p[0].ID != ok.Name || p[0].Title != "T" || p[0].Body != "B" || p[0].Data["conv"] != "c-1" {
					t.Fatalf("recorded %+v", p)
				}
				return
			}
			var e googleError
			r.decode(t, &e)
			if e.Error.Code != tc.wantStatus || e.Error.Status != tc.wantGoogle || e.Error.Message == "" {
				t.Fatalf("error %+v", e.Error)
			}
			var fcm, field string
			for _, d := range e.Error.Details {
				if d["@type"] == "type.googleapis.com/google.firebase.fcm.v1.FcmError" {
					fcm, _ = d["errorCode"].(string)
				}
				if v, ok := d["fieldViolations"].([]any); ok && len(v) > 0 {
					field, _ = v[0].(map[string]any)["field"].(string)
				}
			}
			if fcm != tc.wantFCM || field != tc.wantField {
				t.Fatalf("FcmError %q field %q, want %q %q", fcm, field, tc.wantFCM, tc.wantField)
			}
		})
	}
}

func TestFakeFCMRequiresItsAccessToken(t *testing.T) {
	h := newPushHarness(t, func(c *PushConfig) { c.FCMAccessToken = "ya29.sim" })
	body := `{"message":{"token":"` + testFCMToken + `"}}`
	url := h.base + "/fcm/v1/projects/ppp-sim/messages:send"
	if r := doRequest(t, http.DefaultClient, "POST", url, nil, body); r.status != 401 || !strings.Contains(string(r.body), "UNAUTHENTICATED") {
		t.Fatalf("without token: %d %s", r.status, r.body)
	}
	if r := doRequest(t, http.DefaultClient, "POST", url, map[string]string{"Authorization": "Bearer ya29.sim"}, body); r.status != 200 {
		t.Fatalf("with token: %d %s", r.status, r.body)
	}
}

func TestFakeFCMValidateOnlyIsNotDelivered(t *testing.T) {
	h := newPushHarness(t)
	body := `{"validate_only":true,"message":{"token":"` + testFCMToken + `"}}`
	r := doRequest(t, http.DefaultClient, "POST", h.base+"/fcm/v1/projects/ppp-sim/messages:send", nil, body)
	if r.status != 200 || len(h.ps.Pushes("")) != 0 {
		t.Fatalf("%d, pushes %v", r.status, h.ps.Pushes(""))
	}
	if r := doRequest(t, http.DefaultClient, "POST", h.base+"/fcm/v1/projects/ppp-sim/messages:batch", nil, body); r.status != 404 {
		t.Fatalf("other method: %d", r.status)
	}
}
