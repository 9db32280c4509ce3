package push_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ppprenew/push"
	"ppprenew/push/pushtest"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

var testNow = time.Date(2026, 11, 21, 4, 20, 0, 0, time.UTC)

func TestComposeButtonsAndLanguage(t *testing.T) {
	cfg := push.DefaultConfig()
	open := &engine.State{ID: "c-1", Phase: engine.PhaseQuoted, MeterID: "M1", Bay: "7"}
	ended := &engine.State{ID: "c-1", Phase: engine.PhaseEnded}
	tests := []struct {
		name         string
		conv         string
		send         engine.Send
		st           *engine.State
		wantTitle    string
		wantCategory string
		wantAnswers  string
		wantLabel    string
		wantSilent   bool
	}{
		{"notice in English", "c-1", engine.Send{Template: "notice", Language: "en", Body: "b"}, open, "Parking renewal", push.CategoryRenewal, "123", "Extend", false},
		{"quote in Cantonese", "c-1", engine.Send{Template: "quote", Language: "zh-HK", Body: "b"}, open, "泊車續期", push.CategoryQuote, "yesno", "確認", false},
		{"receipt has no buttons", "c-1", engine.Send{Template: "confirmed", Language: "zh-CN", Body: "b"}, open, "停车续期", "", "", "", false},
		{"ended conversation has no buttons", "c-1", engine.Send{Template: "notice", Language: "en", Body: "b"}, ended, "Parking renewal", "", "", "", false},
		{"no conversation", "", engine.Send{Template: "help", Language: "fr", Body: "b"}, nil, "Parking renewal", "", "", "", false},
		{"dismiss is silent", "c-1", engine.Send{Template: "dismiss", Language: "en"}, open, "", "", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := cfg.Compose(tc.conv, "e-1", tc.send, tc.st, testNow)
			answers := ""
			for _, a := range n.Actions {
				answers += a.Answer
			}
			if n.Title != tc.wantTitle || n.Category != tc.wantCategory || answers != tc.wantAnswers || n.Silent != tc.wantSilent {
				t.Fatalf("title %q category %q answers %q silent %t", n.Title, n.Category, answers, n.Silent)
			}
			if tc.wantLabel != "" && n.Actions[0].Title != tc.wantLabel {
				t.Errorf("first label %q, want %q", n.Actions[0].Title, tc.wantLabel)
			}
			if tc.conv != "" && n.Link != "ppp://renew?c="+tc.conv {
				t.Errorf("link %q", n.Link)
			}
		})
	}
}

func TestSenderPermanentProviderErrorKeepsTheDevice(t *testing.T) {
	v := newEnv(t)
	fake := &pushtest.Provider{Errors: map[string]error{
		fcmToken("1"): &workflows.SendError{Code: 403, Message: "FCM: SenderId mismatch"},
	}}
	v.sender.Providers = map[push.Platform]push.Provider{push.PlatformFCM: fake}
	v.register("u-1", push.PlatformFCM, fcmToken("1"))
	err := v.sender.Send(context.Background(), v.pushRequest("", "e-1", phone1))
	var se *workflows.SendError
	if !errors.As(err, &se) || se.Retryable() || se.Code != 403 {
		t.Fatalf("%v, want the provider's permanent 403", err)
	}
	if got := v.deviceTokens("u-1"); len(got) != 1 {
		t.Fatalf("devices %v: a refused push must not remove the token", got)
	}
	delete(fake.Errors, fcmToken("1"))
	if err := v.sender.Send(context.Background(), v.pushRequest("", "e-2", phone1)); err != nil {
		t.Fatal(err)
	}
	if sent := fake.Sent(); len(sent) != 1 || sent[0].Token != fcmToken("1") || sent[0].Body == "" {
		t.Fatalf("sent %+v", sent)
	}
}
