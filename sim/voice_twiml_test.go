package sim

import (
	"errors"
	"testing"
)

func TestParseTwiML(t *testing.T) {
	root, err := parseTwiML(`<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="Polly.Hiujin" language="zh-HK">你的泊車時間<break time="1s"/>還有 <emphasis>五分鐘</emphasis>。</Say>
  <Gather numDigits="1"><Say>Press 1</Say></Gather>
</Response>`)
	if err != nil {
		t.Fatal(err)
	}
	verbs := root.verbs()
	if len(verbs) != 2 || verbs[0].name != "Say" || verbs[1].name != "Gather" {
		t.Fatalf("verbs %+v", verbs)
	}
	if got, want := verbs[0].textOf(), "你的泊車時間 還有 五分鐘 。"; got != want {
		t.Errorf("say text %q, want %q", got, want)
	}
	if verbs[0].attr("language", "") != "zh-HK" || verbs[1].intAttr("numDigits", 0) != 1 || verbs[1].intAttr("timeout", 5) != 5 {
		t.Errorf("attributes %v %v", verbs[0].attrs, verbs[1].attrs)
	}

	for _, bad := range []string{"", "hello", "<Response><Say>x</Say>", "<Say>x</Say>", "<Response/><Response/>"} {
		if _, err := parseTwiML(bad); !errors.Is(err, errNotTwiML) {
			t.Errorf("parseTwiML(%q) err = %v, want errNotTwiML", bad, err)
		}
	}
}

func TestCollectDigits(t *testing.T) {
	tests := []struct {
		keys, finish string
		num          int
		want, key    string
		done         bool
	}{
		{"1", "#", 1, "1", "", true},
		{"123#", "#", 0, "123", "#", true},
		{"12", "#", 0, "12", "", false},
		{"#", "#", 0, "", "#", true},
		{"12#", "", 0, "12#", "", false},
		{"4321", "#", 3, "432", "", true},
	}
	for _, tt := range tests {
		got, key, done := collectDigits(tt.keys, tt.finish, tt.num)
		if got != tt.want || key != tt.key || done != tt.done {
			t.Errorf("collectDigits(%q, %q, %d) = %q %q %v, want %q %q %v", tt.keys, tt.finish, tt.num,
				got, key, done, tt.want, tt.key, tt.done)
		}
	}
}

func TestResolveURL(t *testing.T) {
	tests := []struct {
		base, ref, want string
		ok              bool
	}{
		{"https://ppp.example/twilio/voice?conv=1", "gather?step=2", "https://ppp.example/twilio/gather?step=2", true},
		{"https://ppp.example/twilio/voice", "/ivr/menu", "https://ppp.example/ivr/menu", true},
		{"https://ppp.example/twilio/voice", "https://other.example/x", "https://other.example/x", true},
		{"", "gather", "", false},
		{"https://ppp.example/", "ftp://x/y", "", false},
	}
	for _, tt := range tests {
		got, err := resolveURL(tt.base, tt.ref)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("resolveURL(%q, %q) = %q, %v; want %q ok=%v", tt.base, tt.ref, got, err, tt.want, tt.ok)
		}
	}
}
