package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// App is a simulated app install: it registered a device token with the
// server's app API, receives the pushes sent to that token and, when
// scripted, presses a notification button.
type App struct {
	ID       string `json:"id"`
	Phone    string `json:"phone"`
	Platform string `json:"platform"`
	// DeviceToken is the token the app registered (FCM registration token
	// or APNs device token).
	DeviceToken string `json:"device_token"`
	// AppToken is the app's bearer token, masked.
	AppToken  string `json:"app_token"`
	ServerURL string `json:"server_url"`
	// Invalidated is set once the token was marked invalid at the fakes.
	Invalidated bool `json:"invalidated"`
	// Script are the presses still waiting for a push, in order.
	Script []AppStep `json:"script"`
	// Pushes are the pushes delivered to the app, oldest first.
	Pushes []Push `json:"pushes"`
	// Answers are the app's calls to the answer and renew routes.
	Answers   []AppAnswer `json:"answers"`
	CreatedAt time.Time   `json:"created_at"`
}

// AppSpec creates a simulated app.
type AppSpec struct {
	// Phone is the driver's number (E.164), for display.
	Phone string `json:"phone"`
	// Platform is "fcm" (default) or "apns".
	Platform string `json:"platform"`
	// AppToken is the bearer token the server issued for the driver.
	AppToken string `json:"app_token"`
	// ServerURL is the server's base URL; the app calls ServerURL/app/v1/….
	ServerURL string `json:"server_url"`
}

// AppStep is one scripted press: when the next push about a conversation
// arrives, wait AfterMS, then answer it with Press ("1", "2", "3", "yes",
// "no") or renew it directly ("renew": the app gets the quote with
// POST .../quote, shows it, and confirms that quote by id with
// POST .../renew). Duplicate sends the same answer or renewal request
// twice with the same Idempotency-Key, as a retrying app would.
type AppStep struct {
	Press     string `json:"press"`
	AfterMS   int    `json:"after_ms"`
	Duplicate bool   `json:"duplicate"`
}

// AppAnswer is one answer request of a simulated app and the server's
// final response to it.
type AppAnswer struct {
	At             time.Time `json:"at"`
	Push           string    `json:"push"`
	Conv           string    `json:"conv"`
	Press          string    `json:"press"`
	IdempotencyKey string    `json:"idempotency_key"`
	// Attempts counts the HTTP requests, retries included.
	Attempts int `json:"attempts"`
	Status   int `json:"status"`
	// Replayed is set when the server answered from its idempotency store.
	Replayed bool     `json:"replayed"`
	Phase    string   `json:"phase,omitempty"`
	Messages []string `json:"messages,omitempty"`
	// Quote is the id of the quote in the server's answer; for a renewal,
	// the quote the app showed and confirmed.
	Quote     string `json:"quote,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
}

// appState is an app and its pending script, guarded by PushSim.mu.
type appState struct {
	app      App
	appToken string
	notify   chan struct{}
}

// changedLocked wakes the waiters of the app.
func (a *appState) changedLocked() {
	close(a.notify)
	a.notify = make(chan struct{})
}

func (a *appState) snapshotLocked() App {
	out := a.app
	out.Script = append([]AppStep{}, a.app.Script...)
	out.Pushes = make([]Push, 0, len(a.app.Pushes))
	for _, p := range a.app.Pushes {
		out.Pushes = append(out.Pushes, clonePush(p))
	}
	out.Answers = make([]AppAnswer, 0, len(a.app.Answers))
	for _, an := range a.app.Answers {
		an.Messages = append([]string(nil), an.Messages...)
		out.Answers = append(out.Answers, an)
	}
	return out
}

var appPresses = map[string]bool{"1": true, "2": true, "3": true, "yes": true, "no": true, "renew": true}

// CreateApp installs a simulated app: it makes up a device token of the
// platform and registers it with POST {ServerURL}/app/v1/devices. A refused
// registration is ErrAppRegistration and leaves no app.
func (ps *PushSim) CreateApp(ctx context.Context, spec AppSpec) (App, error) {
	if spec.Platform == "" {
		spec.Platform = ProviderFCM
	}
	switch {
	case spec.Phone != "" && !e164.MatchString(spec.Phone):
		return App{}, fmt.Errorf("%w: %q", ErrInvalidNumber, spec.Phone)
	case spec.Platform != ProviderFCM && spec.Platform != ProviderAPNs:
		return App{}, fmt.Errorf("%w: platform must be fcm or apns", ErrInvalidPush)
	case spec.AppToken == "":
		return App{}, fmt.Errorf("%w: app_token is required", ErrInvalidPush)
	}
	u, err := url.Parse(spec.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return App{}, fmt.Errorf("%w: server_url must be an absolute http(s) URL", ErrInvalidPush)
	}
	spec.ServerURL = strings.TrimRight(spec.ServerURL, "/")
	token := newDeviceToken(spec.Platform)
	body, _ := json.Marshal(map[string]string{"platform": spec.Platform, "token": token})
	res, err := ps.call(ctx, spec.AppToken, http.MethodPost, spec.ServerURL+"/app/v1/devices", "", body)
	if err != nil {
		return App{}, fmt.Errorf("%w: %v", ErrAppRegistration, err)
	}
	if res.status != http.StatusOK && res.status != http.StatusCreated {
		return App{}, fmt.Errorf("%w: server answered %d %s", ErrAppRegistration, res.status, strings.TrimSpace(string(res.body)))
	}
	a := &appState{
		app: App{
			ID: "app_" + newToken("")[:12], Phone: spec.Phone, Platform: spec.Platform, DeviceToken: token,
			AppToken: maskSecret(spec.AppToken), ServerURL: spec.ServerURL, Script: []AppStep{},
			Pushes: []Push{}, Answers: []AppAnswer{}, CreatedAt: ps.cfg.Clock(),
		},
		appToken: spec.AppToken,
		notify:   make(chan struct{}),
	}
	ps.mu.Lock()
	ps.apps[a.app.ID] = a
	ps.appList = append(ps.appList, a)
	ps.byToken[token] = a
	out := a.snapshotLocked()
	ps.mu.Unlock()
	ps.log.Info("app installed", "app", out.ID, "phone", maskNumber(spec.Phone), "platform", spec.Platform, "device", maskSecret(token))
	return out, nil
}

// newDeviceToken makes up a token of the platform's form: an FCM
// registration token ("<instance id>:APA91b…") or 64 hex digits for APNs.
func newDeviceToken(platform string) string {
	if platform == ProviderAPNs {
		var b [32]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	var id [16]byte
	var rest [100]byte
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(rest[:])
	enc := base64.RawURLEncoding
	return enc.EncodeToString(id[:])[:22] + ":APA91b" + enc.EncodeToString(rest[:])
}

// App returns a simulated app.
func (ps *PushSim) App(id string) (App, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	a, ok := ps.apps[id]
	if !ok {
		return App{}, fmt.Errorf("%w: app %s", ErrNotFound, id)
	}
	return a.snapshotLocked(), nil
}

// Apps returns every simulated app, oldest first.
func (ps *PushSim) Apps() []App {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make([]App, 0, len(ps.appList))
	for _, a := range ps.appList {
		out = append(out, a.snapshotLocked())
	}
	return out
}

// ScriptApp queues a press for the app's next push about a conversation.
func (ps *PushSim) ScriptApp(id string, step AppStep) (App, error) {
	step.Press = strings.ToLower(strings.TrimSpace(step.Press))
	if !appPresses[step.Press] {
		return App{}, fmt.Errorf("%w: press must be 1, 2, 3, yes, no or renew", ErrInvalidPush)
	}
	if step.AfterMS < 0 || step.AfterMS > 600000 {
		return App{}, fmt.Errorf("%w: after_ms must be 0 to 600000", ErrInvalidPush)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	a, ok := ps.apps[id]
	if !ok {
		return App{}, fmt.Errorf("%w: app %s", ErrNotFound, id)
	}
	a.app.Script = append(a.app.Script, step)
	a.changedLocked()
	return a.snapshotLocked(), nil
}

// WaitApp blocks until cond holds for the app or ctx ends, and returns the
// app as it last was.
func (ps *PushSim) WaitApp(ctx context.Context, id string, cond func(App) bool) (App, error) {
	for {
		ps.mu.Lock()
		a, ok := ps.apps[id]
		if !ok {
			ps.mu.Unlock()
			return App{}, fmt.Errorf("%w: app %s", ErrNotFound, id)
		}
		snap, ch := a.snapshotLocked(), a.notify
		ps.mu.Unlock()
		if cond(snap) {
			return snap, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return snap, ctx.Err()
		}
	}
}

// deliver hands a push to its app and starts the next scripted press when
// the push is about a conversation.
func (ps *PushSim) deliver(a *appState, p Push) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	a.app.Pushes = append(a.app.Pushes, clonePush(p))
	conv := p.Data["conv"]
	if conv != "" && len(a.app.Script) > 0 {
		step := a.app.Script[0]
		a.app.Script = a.app.Script[1:]
		key := "sim-" + a.app.ID + "-" + strconv.Itoa(len(a.app.Pushes))
		ps.wg.Add(1)
		go ps.press(a, p.ID, conv, key, step)
	}
	a.changedLocked()
}

// press carries out one scripted press after its delay.
func (ps *PushSim) press(a *appState, pushID, conv, key string, step AppStep) {
	defer ps.wg.Done()
	if step.AfterMS > 0 {
		t := time.NewTimer(time.Duration(step.AfterMS) * time.Millisecond)
		select {
		case <-t.C:
		case <-ps.ctx.Done():
			t.Stop()
			return
		}
	}
	ps.mu.Lock()
	server, bearer, appID := a.app.ServerURL, a.appToken, a.app.ID
	ps.mu.Unlock()
	session := server + "/app/v1/sessions/" + url.PathEscape(conv)
	target, body := session+"/answer", []byte(`{"answer":"`+step.Press+`"}`)
	confirmed := ""
	if step.Press == "renew" {
		// The app never confirms blind: it asks for the quote, shows it,
		// and confirms the quote it showed.
		shown := ps.answer(bearer, session+"/quote", key+"-quote", []byte(`{}`))
		if shown.Quote == "" {
			shown.Push, shown.Conv, shown.Press, shown.IdempotencyKey = pushID, conv, step.Press, key+"-quote"
			ps.mu.Lock()
			a.app.Answers = append(a.app.Answers, shown)
			a.changedLocked()
			ps.mu.Unlock()
			ps.log.Info("app got no quote to confirm", "app", appID, "conv", conv, "status", shown.Status, "phase", shown.Phase)
			return
		}
		target, confirmed = session+"/renew", shown.Quote
		body, _ = json.Marshal(map[string]string{"quote_id": confirmed})
	}
	times := 1
	if step.Duplicate {
		times = 2
	}
	for range times {
		ans := ps.answer(bearer, target, key, body)
		ans.Push, ans.Conv, ans.Press, ans.IdempotencyKey = pushID, conv, step.Press, key
		if confirmed != "" {
			ans.Quote = confirmed
		}
		ps.mu.Lock()
		a.app.Answers = append(a.app.Answers, ans)
		a.changedLocked()
		ps.mu.Unlock()
		ps.log.Info("app pressed", "app", appID, "conv", conv, "press", step.Press, "status", ans.Status, "phase", ans.Phase, "attempts", ans.Attempts)
	}
}

// answer posts one answer, retrying with the same Idempotency-Key after a
// network error, a 5xx or a 409 request_in_progress.
func (ps *PushSim) answer(bearer, target, key string, body []byte) AppAnswer {
	var ans AppAnswer
	for attempt := 1; attempt <= 1+ps.cfg.AppRetries; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(ps.cfg.AppRetryDelay):
			case <-ps.ctx.Done():
				return ans
			}
		}
		ans = AppAnswer{At: ps.cfg.Clock(), Attempts: attempt}
		res, err := ps.call(ps.ctx, bearer, http.MethodPost, target, key, body)
		if err != nil {
			ans.Error = err.Error()
			continue
		}
		ans.Status, ans.Replayed = res.status, res.replayed
		type quote struct {
			ID string `json:"id"`
		}
		var r struct {
			Phase    string   `json:"phase"`
			Messages []string `json:"messages"`
			Session  struct {
				Quote *quote `json:"quote"`
			} `json:"session"`
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(res.body, &r)
		ans.Phase, ans.Messages = r.Phase, r.Messages
		if q := r.Session.Quote; q != nil {
			ans.Quote = q.ID
		}
		if r.Error != nil {
			ans.ErrorCode, ans.Error = r.Error.Code, r.Error.Message
		}
		if res.status < 500 && !(res.status == http.StatusConflict && ans.ErrorCode == "request_in_progress") {
			return ans
		}
	}
	return ans
}

// response is the server's answer to one app request.
type response struct {
	status int
	body   []byte
	// replayed is set when the server answered from its idempotency store.
	replayed bool
}

// call makes one request to the server's app API.
func (ps *PushSim) call(ctx context.Context, bearer, method, target, key string, body []byte) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := ps.cfg.AppHTTPClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return response{status: res.StatusCode, body: out, replayed: res.Header.Get("Idempotent-Replayed") == "true"}, err
}
