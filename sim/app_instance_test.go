package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// createApp installs an app through the control API.
func (h *pushHarness) createApp(server *appServer, platform string) App {
	h.t.Helper()
	body, _ := json.Marshal(AppSpec{Phone: testPhone, Platform: platform, AppToken: server.bearer, ServerURL: server.srv.URL})
	r := doRequest(h.t, http.DefaultClient, "POST", h.base+"/sim/v1/apps", nil, string(body))
	if r.status != http.StatusCreated {
		h.t.Fatalf("create app: %d %s", r.status, r.body)
	}
	var app App
	r.decode(h.t, &app)
	return app
}

func (h *pushHarness) script(id, step string) result {
	return doRequest(h.t, http.DefaultClient, "POST", h.base+"/sim/v1/apps/"+id+"/script", nil, step)
}

func (h *pushHarness) waitAnswers(id string, n int) App {
	h.t.Helper()
	r := doRequest(h.t, http.DefaultClient, "GET", h.base+"/sim/v1/apps/"+id+"?answers="+strconv.Itoa(n)+"&wait=10s", nil, "")
	var app App
	r.decode(h.t, &app)
	if len(app.Answers) < n {
		h.t.Fatalf("app %s made %d answers, want %d: %s", id, len(app.Answers), n, r.body)
	}
	return app
}

func TestAppRegistersItsDevice(t *testing.T) {
	for _, platform := range []string{ProviderFCM, ProviderAPNs} {
		t.Run(platform, func(t *testing.T) {
			h := newPushHarness(t)
			server := newAppServer(t, "ppa_secret")
			app := h.createApp(server, platform)
			form := fcmTokenForm
			if platform == ProviderAPNs {
				form = apnsTokenForm
			}
			if !form.MatchString(app.DeviceToken) || app.Platform != platform {
				t.Fatalf("device token %q for %s", app.DeviceToken, platform)
			}
			if strings.Contains(app.AppToken, "secret") {
				t.Fatalf("app token shown: %q", app.AppToken)
			}
			reqs := server.all()
			if len(reqs) != 1 || reqs[0].path != "/app/v1/devices" || reqs[0].auth != "Bearer ppa_secret" ||
				!strings.Contains(reqs[0].body, app.DeviceToken) || !strings.Contains(reqs[0].body, `"platform":"`+platform+`"`) {
				t.Fatalf("registration %+v", reqs)
			}
		})
	}
}

func TestAppRegistrationRefused(t *testing.T) {
	h := newPushHarness(t)
	server := newAppServer(t, "ppa_secret")
	body, _ := json.Marshal(AppSpec{Phone: testPhone, AppToken: "ppa_wrong", ServerURL: server.srv.URL})
	r := doRequest(t, http.DefaultClient, "POST", h.base+"/sim/v1/apps", nil, string(body))
	if r.status != http.StatusBadGateway || len(h.ps.Apps()) != 0 {
		t.Fatalf("%d %s, apps %d: want 502 and no app", r.status, r.body, len(h.ps.Apps()))
	}
	for _, bad := range []AppSpec{
		{Phone: "123", AppToken: "x", ServerURL: server.srv.URL},
		{Platform: "sms", AppToken: "x", ServerURL: server.srv.URL},
		{AppToken: "", ServerURL: server.srv.URL},
		{AppToken: "x", ServerURL: "ftp://x"},
	} {
		if _, err := h.ps.CreateApp(context.Background(), bad); err == nil {
			t.Errorf("spec %+v accepted", bad)
		}
	}
}

func TestAppPressesOnTheNextPushAndRetriesWithTheSameKey(t *testing.T) {
	h := newPushHarness(t)
	server := newAppServer(t, "ppa_secret")
	server.answerStatuses = []int{503}
	app := h.createApp(server, ProviderFCM)
	if r := h.script(app.ID, `{"press":"1","after_ms":1}`); r.status != 200 {
		t.Fatalf("script: %d %s", r.status, r.body)
	}
	// A push about no conversation does not take the scripted press.
	body := `{"message":{"token":"` + app.DeviceToken + `","notification":{"title":"T","body":"help"}}}`
	doRequest(t, http.DefaultClient, "POST", h.base+"/fcm/v1/projects/ppp-sim/messages:send", nil, body)
	if a, _ := h.ps.App(app.ID); len(a.Script) != 1 || len(a.Pushes) != 1 {
		t.Fatalf("after a plain push: script %d pushes %d", len(a.Script), len(a.Pushes))
	}
	if r := h.fcmSend("ppp-sim", app.DeviceToken, ""); r.status != 200 {
		t.Fatalf("push: %d", r.status)
	}
	got := h.waitAnswers(app.ID, 1)
	ans := got.Answers[0]
	if ans.Status != 200 || ans.Attempts != 2 || ans.Phase != "quoted" || ans.Conv != "c-1" || ans.Press != "1" || len(ans.Messages) != 1 {
		t.Fatalf("answer %+v", ans)
	}
	reqs := server.answers()
	if len(reqs) != 2 || reqs[0].key == "" || reqs[0].key != reqs[1].key || reqs[0].path != "/app/v1/sessions/c-1/answer" ||
		reqs[0].body != `{"answer":"1"}` || reqs[0].auth != "Bearer ppa_secret" {
		t.Fatalf("answer requests %+v, want one retry with the same Idempotency-Key", reqs)
	}
	if len(got.Script) != 0 || len(got.Pushes) != 2 {
		t.Fatalf("script %v pushes %d", got.Script, len(got.Pushes))
	}
}

func TestAppRenewsAndDuplicates(t *testing.T) {
	h := newPushHarness(t)
	server := newAppServer(t, "ppa_secret")
	app := h.createApp(server, ProviderAPNs)
	if r := h.script(app.ID, `{"press":"renew","duplicate":true}`); r.status != 200 {
		t.Fatalf("script: %d %s", r.status, r.body)
	}
	if r := h.script(app.ID, `{"press":"9"}`); r.status != 400 {
		t.Fatalf("bad press: %d", r.status)
	}
	r := h.apnsSend(app.DeviceToken, nil, `{"aps":{"alert":{"title":"T","body":"B"}},"conv":"c-9"}`)
	if r.status != 200 {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	got := h.waitAnswers(app.ID, 2)
	if got.Answers[0].Replayed || !got.Answers[1].Replayed || got.Answers[0].IdempotencyKey != got.Answers[1].IdempotencyKey {
		t.Fatalf("answers %+v, want the second replayed under the same key", got.Answers)
	}
	if got.Answers[0].Quote != "q-1" || got.Answers[0].Phase != "charging" {
		t.Fatalf("renewal %+v, want quote q-1 confirmed", got.Answers[0])
	}
	// The app asks for the quote first and confirms the one it was shown.
	reqs := server.answers()
	if len(reqs) != 3 || reqs[0].path != "/app/v1/sessions/c-9/quote" || reqs[1].path != "/app/v1/sessions/c-9/renew" ||
		reqs[1].body != `{"quote_id":"q-1"}` || reqs[2] != reqs[1] || reqs[0].key == reqs[1].key {
		t.Fatalf("requests %+v, want the quote, then its confirmation twice under one key", reqs)
	}
}

func TestPushControlRoutes(t *testing.T) {
	h := newPushHarness(t)
	server := newAppServer(t, "ppa_secret")
	app := h.createApp(server, ProviderAPNs)
	r := doRequest(t, http.DefaultClient, "POST", h.base+"/sim/v1/push/invalidate", nil, `{"token":"`+app.DeviceToken+`"}`)
	if r.status != 200 {
		t.Fatalf("invalidate: %d %s", r.status, r.body)
	}
	if r := h.apnsSend(app.DeviceToken, nil, `{"aps":{"alert":"x"}}`); r.status != 410 {
		t.Fatalf("push to an invalidated token: %d", r.status)
	}
	if r := h.fcmSend("ppp-sim", app.DeviceToken, ""); r.status != 404 || !strings.Contains(string(r.body), "UNREGISTERED") {
		t.Fatalf("invalidated token at FCM: %d %s, want 404 UNREGISTERED", r.status, r.body)
	}
	var pushes []Push
	doRequest(t, http.DefaultClient, "GET", h.base+"/sim/v1/pushes?token="+app.DeviceToken, nil, "").decode(t, &pushes)
	if len(pushes) != 2 || pushes[0].Reason != "Unregistered" {
		t.Fatalf("pushes %+v", pushes)
	}
	var got App
	doRequest(t, http.DefaultClient, "GET", h.base+"/sim/v1/apps/"+app.ID, nil, "").decode(t, &got)
	if !got.Invalidated || len(got.Pushes) != 0 {
		t.Fatalf("app %+v", got)
	}
	if r := doRequest(t, http.DefaultClient, "POST", h.base+"/sim/v1/push/faults", nil, `{"provider":"apns","status":503,"count":2}`); r.status != 200 {
		t.Fatalf("fault: %d %s", r.status, r.body)
	}
	if f := h.ps.PushFaults(); len(f) != 1 || f[0].Count != 2 {
		t.Fatalf("faults %+v", f)
	}
	doRequest(t, http.DefaultClient, "DELETE", h.base+"/sim/v1/push/faults", nil, "")
	if r := doRequest(t, http.DefaultClient, "GET", h.base+"/sim/v1/apps/app_nope", nil, ""); r.status != 404 {
		t.Fatalf("unknown app: %d", r.status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.ps.WaitApp(ctx, app.ID, func(a App) bool { return len(a.Answers) > 0 }); err == nil {
		t.Fatal("WaitApp returned without answers")
	}
}
