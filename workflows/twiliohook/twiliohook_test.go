package twiliohook

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const token = "12345678901234567890123456789012"

// sign computes X-Twilio-Signature as Twilio documents it: HMAC-SHA1 of the
// full URL followed by the POST parameters sorted by name, name+value.
func sign(tok, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(tok))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// inbound is a Twilio-shaped inbound SMS parameter set.
func inbound() url.Values {
	return url.Values{
		"ToCountry": {"HK"}, "SmsMessageSid": {"SM0123456789abcdef0123456789abcdef"}, "NumMedia": {"0"},
		"SmsSid": {"SM0123456789abcdef0123456789abcdef"}, "SmsStatus": {"received"}, "Body": {"1"},
		"FromCountry": {"HK"}, "To": {"+85258001000"}, "NumSegments": {"1"},
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "AccountSid": {"AC0123456789abcdef0123456789abcdef"},
		"From": {"+85291234567"}, "ApiVersion": {"2010-04-01"},
	}
}

func newServer(public string) (*echo.Echo, *int, Config) {
	cfg := DefaultConfig()
	cfg.PublicURL, cfg.AuthToken, cfg.Rejected = public, token, NewRejectedCounter()
	e := echo.New()
	calls := new(int)
	e.POST("/twilio/sms", func(c echo.Context) error {
		*calls++
		return c.String(http.StatusOK, Form(c).Get("Body"))
	}, Middleware(cfg))
	return e, calls, cfg
}

func TestMiddleware(t *testing.T) {
	const public = "https://ppp.example.com"
	tests := []struct {
		name       string
		signURL    string // URL the sender signed
		target     string // path+query the request hits
		tamper     func(url.Values)
		tok        string
		noHeader   bool
		expectCode int
	}{
		{name: "valid", signURL: public + "/twilio/sms", target: "/twilio/sms", expectCode: 200},
		{name: "valid with query", signURL: public + "/twilio/sms?mid=m-1", target: "/twilio/sms?mid=m-1", expectCode: 200},
		{name: "explicit :443 signed", signURL: "https://ppp.example.com:443/twilio/sms", target: "/twilio/sms", expectCode: 200},
		{name: "tampered parameter", signURL: public + "/twilio/sms", target: "/twilio/sms", tamper: func(v url.Values) { v.Set("Body", "2") }, expectCode: 403},
		{name: "added parameter", signURL: public + "/twilio/sms", target: "/twilio/sms", tamper: func(v url.Values) { v.Set("Extra", "x") }, expectCode: 403},
		{name: "wrong token", signURL: public + "/twilio/sms", target: "/twilio/sms", tok: "00000000000000000000000000000000", expectCode: 403},
		{name: "wrong host", signURL: "https://evil.example.com/twilio/sms", target: "/twilio/sms", expectCode: 403},
		{name: "http instead of https", signURL: "http://ppp.example.com/twilio/sms", target: "/twilio/sms", expectCode: 403},
		{name: "query changed", signURL: public + "/twilio/sms?mid=m-1", target: "/twilio/sms?mid=m-2", expectCode: 403},
		{name: "missing header", signURL: public + "/twilio/sms", target: "/twilio/sms", noHeader: true, expectCode: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, calls, cfg := newServer(public)
			form := inbound()
			tok := token
			if tt.tok != "" {
				tok = tt.tok
			}
			sig := sign(tok, tt.signURL, form)
			if tt.tamper != nil {
				tt.tamper(form)
			}
			req := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(form.Encode()))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
			if !tt.noHeader {
				req.Header.Set("X-Twilio-Signature", sig)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.expectCode {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.expectCode, rec.Body)
			}
			wantCalls := 0
			if tt.expectCode == 200 {
				wantCalls = 1
				if rec.Body.String() != form.Get("Body") {
					t.Fatalf("handler saw body %q", rec.Body)
				}
			}
			if *calls != wantCalls {
				t.Fatalf("handler ran %d times, want %d", *calls, wantCalls)
			}
			rejected := float64(testutil.CollectAndCount(cfg.Rejected))
			if (tt.expectCode == 403) != (rejected == 1) {
				t.Fatalf("rejected metric %v for status %d", rejected, tt.expectCode)
			}
		})
	}
}

func TestMiddlewareQueryParamsAreNotFormParams(t *testing.T) {
	// A parameter moved from the body to the query must not verify: the
	// signature covers the POST form, and the query only as part of the URL.
	e, calls, _ := newServer("https://ppp.example.com")
	form := inbound()
	sig := sign(token, "https://ppp.example.com/twilio/sms", form)
	body := inbound()
	body.Del("Body")
	req := httptest.NewRequest(http.MethodPost, "/twilio/sms?Body=1", strings.NewReader(body.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("X-Twilio-Signature", sig)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != 403 || *calls != 0 {
		t.Fatalf("status %d calls %d, want 403 and no call", rec.Code, *calls)
	}
}

func TestMiddlewareJSONBodySHA256(t *testing.T) {
	const public = "https://ppp.example.com"
	body := []byte(`{"CallSid":"CA123","Status":"completed"}`)
	sum := sha256.Sum256(body)
	path := "/twilio/sms?bodySHA256=" + hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{{"intact", body, 200}, {"altered body", []byte(`{"CallSid":"CA124","Status":"completed"}`), 403}} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := newServer(public)
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(tc.body)))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			req.Header.Set("X-Twilio-Signature", sign(token, public+path, url.Values{}))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

func TestMiddlewareBodyLimit(t *testing.T) {
	e, calls, cfg := newServer("https://ppp.example.com")
	form := inbound()
	form.Set("Body", strings.Repeat("x", int(cfg.MaxBodyBytes)))
	req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("X-Twilio-Signature", sign(token, "https://ppp.example.com/twilio/sms", form))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || *calls != 0 {
		t.Fatalf("status %d calls %d, want 413 and no call", rec.Code, *calls)
	}
}
