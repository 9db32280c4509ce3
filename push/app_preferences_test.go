package push_test

import (
	"context"
	"testing"
	"time"

	"ppprenew/push"
)

func TestAppPreferences(t *testing.T) {
	v := newEnv(t)
	user := "u-1"
	tok := v.token(user)
	r := v.do("PUT", "/preferences", tok, "", `{"language":"zh-CN","channels":["voice","sms"],"lead_time":"15m","calls_in_quiet_hours":true}`)
	if r.status != 200 {
		t.Fatalf("put preferences: %d %s", r.status, r.body)
	}
	u, err := v.runner.Registry.User(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	if u.Language != "zh-CN" || len(u.Channels) != 2 || u.Channels[0] != "voice" || u.LeadTime != 15*time.Minute || !u.CallsInQuietHours {
		t.Fatalf("stored %+v", u)
	}
	var got push.Preferences
	v.do("GET", "/preferences", tok, "", "").json(t, &got)
	if got.Language != "zh-CN" || got.LeadTime != "15m0s" {
		t.Fatalf("read back %+v", got)
	}
	for _, bad := range []string{`{"language":"fr"}`, `{"channels":["fax"]}`, `{"lead_time":"2h"}`, `{"lead_time":"1m"}`, `not json`} {
		if r := v.do("PUT", "/preferences", tok, "", bad); r.status != 400 {
			t.Fatalf("%s: %d, want 400", bad, r.status)
		}
	}
	if r := v.do("PUT", "/preferences", "", "", `{}`); r.status != 401 {
		t.Fatalf("without a token: %d, want 401", r.status)
	}
}
