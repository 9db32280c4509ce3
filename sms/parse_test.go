package sms

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// keywordReplies lists every recognised reply word in its canonical form with its meaning.
var keywordReplies = []struct {
	word   string
	expect Reply
}{
	{"1", Reply{ReplyChoice, 1}}, {"2", Reply{ReplyChoice, 2}}, {"3", Reply{ReplyChoice, 3}},
	{"4", Reply{ReplyChoice, 4}}, {"5", Reply{ReplyChoice, 5}}, {"6", Reply{ReplyChoice, 6}},
	{"7", Reply{ReplyChoice, 7}}, {"8", Reply{ReplyChoice, 8}}, {"9", Reply{ReplyChoice, 9}},
	{"一", Reply{ReplyChoice, 1}}, {"二", Reply{ReplyChoice, 2}}, {"三", Reply{ReplyChoice, 3}},
	{"四", Reply{ReplyChoice, 4}}, {"五", Reply{ReplyChoice, 5}}, {"六", Reply{ReplyChoice, 6}},
	{"七", Reply{ReplyChoice, 7}}, {"八", Reply{ReplyChoice, 8}}, {"九", Reply{ReplyChoice, 9}},
	{"壹", Reply{ReplyChoice, 1}}, {"貳", Reply{ReplyChoice, 2}}, {"贰", Reply{ReplyChoice, 2}},
	{"參", Reply{ReplyChoice, 3}}, {"叁", Reply{ReplyChoice, 3}},
	{"EXTEND", Reply{ReplyChoice, 1}}, {"RENEW", Reply{ReplyChoice, 1}},
	{"續期", Reply{ReplyChoice, 1}}, {"续期", Reply{ReplyChoice, 1}},
	{"延長", Reply{ReplyChoice, 1}}, {"延长", Reply{ReplyChoice, 1}},
	{"YES", Reply{Kind: ReplyYes}}, {"Y", Reply{Kind: ReplyYes}}, {"OK", Reply{Kind: ReplyYes}},
	{"是", Reply{Kind: ReplyYes}}, {"好", Reply{Kind: ReplyYes}},
	{"確認", Reply{Kind: ReplyYes}}, {"确认", Reply{Kind: ReplyYes}},
	{"確定", Reply{Kind: ReplyYes}}, {"确定", Reply{Kind: ReplyYes}},
	{"NO", Reply{Kind: ReplyNo}}, {"N", Reply{Kind: ReplyNo}}, {"否", Reply{Kind: ReplyNo}},
	{"取消", Reply{Kind: ReplyNo}}, {"不", Reply{Kind: ReplyNo}},
	{"STOP", Reply{Kind: ReplyStop}}, {"STOPALL", Reply{Kind: ReplyStop}},
	{"UNSUBSCRIBE", Reply{Kind: ReplyStop}}, {"CANCEL", Reply{Kind: ReplyStop}},
	{"END", Reply{Kind: ReplyStop}}, {"QUIT", Reply{Kind: ReplyStop}},
	{"REVOKE", Reply{Kind: ReplyStop}}, {"OPTOUT", Reply{Kind: ReplyStop}},
	{"停止", Reply{Kind: ReplyStop}}, {"退訂", Reply{Kind: ReplyStop}}, {"退订", Reply{Kind: ReplyStop}},
	{"START", Reply{Kind: ReplyStart}}, {"UNSTOP", Reply{Kind: ReplyStart}},
	{"HELP", Reply{Kind: ReplyHelp}}, {"INFO", Reply{Kind: ReplyHelp}},
	{"幫助", Reply{Kind: ReplyHelp}}, {"帮助", Reply{Kind: ReplyHelp}},
}

// caseForms returns word in upper, lower, title and alternating case, and in full-width upper
// and lower case (Chinese words are the same in every form).
func caseForms(word string) map[string]string {
	var title, alt strings.Builder
	for i, r := range []rune(strings.ToLower(word)) {
		if i == 0 {
			title.WriteRune(toUpperASCII(r))
		} else {
			title.WriteRune(r)
		}
		if i%2 == 1 {
			r = toUpperASCII(r)
		}
		alt.WriteRune(r)
	}
	return map[string]string{
		"upper":            strings.ToUpper(word),
		"lower":            strings.ToLower(word),
		"title":            title.String(),
		"alternating":      alt.String(),
		"full-width upper": toFullWidth(strings.ToUpper(word)),
		"full-width lower": toFullWidth(strings.ToLower(word)),
	}
}

func toUpperASCII(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r - 'a' + 'A'
	}
	return r
}

func lowerASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// toFullWidth maps printable ASCII to the full-width forms U+FF01..U+FF5E.
func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7F {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

var replyPaddings = map[string][2]string{
	"bare":                    {"", ""},
	"spaces":                  {"  ", "  "},
	"tabs and newlines":       {"\t", "\r\n"},
	"ideographic space":       {"\u3000", "\u3000"},
	"non-breaking space":      {"\u00a0", "\u00a0"},
	"zero-width space":        {"\u200b", "\ufeff"},
	"full stop":               {"", "."},
	"exclamation":             {"", "!"},
	"ideographic full stop":   {"", "。"},
	"full-width exclamation":  {"", "！"},
	"mixed trailing marks":    {" ", " !! . 。！ "},
	"padding then full stop":  {"\u3000", "\u3000。\u3000"},
	"newline after full stop": {"", ".\n"},
}

func TestParseReplyKeywords(t *testing.T) {
	for _, kw := range keywordReplies {
		for formName, form := range caseForms(kw.word) {
			for padName, pad := range replyPaddings {
				given := pad[0] + form + pad[1]
				t.Run(fmt.Sprintf("%s/%s/%s", kw.word, formName, padName), func(t *testing.T) {
					if got := ParseReply(given); got != kw.expect {
						t.Fatalf("ParseReply(%q) = %v, expect %v", given, got, kw.expect)
					}
				})
			}
		}
	}
}

func TestParseReplyUnknown(t *testing.T) {
	tests := []struct {
		name  string
		given string
	}{
		{"empty", ""},
		{"only spaces", " \t\u3000\n"},
		{"only punctuation", ".!。！"},
		{"two digits", "12"},
		{"digits with space", "1 2"},
		{"zero", "0"},
		{"full-width zero", "０"},
		{"ten", "10"},
		{"leading zero", "01"},
		{"chinese ten", "十"},
		{"chinese zero", "零"},
		{"two chinese numerals", "一二"},
		{"digit and chinese numeral", "1一"},
		{"keyword in a sentence", "yes please"},
		{"stop in a sentence", "please stop"},
		{"two-word stop all", "STOP ALL"},
		{"spaced letters", "y e s"},
		{"leading punctuation", ".yes"},
		{"question mark", "yes?"},
		{"comma", "yes,"},
		{"prefix of a keyword", "ye"},
		{"keyword with extra letter", "yess"},
		{"long s does not fold to S", "ſtop"},
		{"kelvin sign does not fold to K", "o\u212a"},
		{"dotted capital I does not fold", "\u0130nfo"},
		{"half a chinese word", "停"},
		{"chinese word and more", "停止吧"},
		{"spaced full-width letters", "Ｙ Ｅ Ｓ"},
		{"digit in brackets", "(1)"},
		{"superscript digit", "¹"},
		{"invalid utf-8", "\xff"},
		{"keyword and invalid utf-8", "yes\xff"},
		{"nul byte", "yes\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseReply(tc.given); got != (Reply{}) {
				t.Fatalf("ParseReply(%q) = %v, expect unknown", tc.given, got)
			}
		})
	}
}

func TestParseReplyTwilioLists(t *testing.T) {
	tests := []struct {
		name   string
		given  []string
		expect Reply
	}{
		{"opt-out keywords stop", OptOutKeywords, Reply{Kind: ReplyStop}},
		{"help keywords help", HelpKeywords, Reply{Kind: ReplyHelp}},
	}
	for _, tc := range tests {
		for _, w := range tc.given {
			if got := ParseReply(w); got != tc.expect {
				t.Errorf("%s: ParseReply(%q) = %v, expect %v", tc.name, w, got, tc.expect)
			}
		}
	}
	for _, w := range OptInKeywords {
		expect := Reply{Kind: ReplyStart}
		if w == "YES" {
			expect = Reply{Kind: ReplyYes}
		}
		if got := ParseReply(w); got != expect {
			t.Errorf("ParseReply(%q) = %v, expect %v", w, got, expect)
		}
	}
	if len(OptOutKeywords) != 8 || len(OptInKeywords) != 3 || len(HelpKeywords) != 2 {
		t.Fatalf("keyword lists changed: %v %v %v", OptOutKeywords, OptInKeywords, HelpKeywords)
	}
}

func TestIsOptInKeyword(t *testing.T) {
	tests := []struct {
		given  string
		expect bool
	}{
		{"START", true},
		{"start", true},
		{"Yes", true},
		{" ＹＥＳ。", true},
		{"unstop!", true},
		{"UnStOp", true},
		{"Y", false},
		{"OK", false},
		{"是", false},
		{"STOP", false},
		{"HELP", false},
		{"1", false},
		{"start now", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := IsOptInKeyword(tc.given); got != tc.expect {
			t.Errorf("IsOptInKeyword(%q) = %v, expect %v", tc.given, got, tc.expect)
		}
	}
}

func TestReplyString(t *testing.T) {
	tests := []struct {
		given  Reply
		expect string
	}{
		{Reply{}, "unknown"},
		{Reply{Kind: ReplyChoice, Choice: 2}, "choice 2"},
		{Reply{Kind: ReplyYes}, "yes"},
		{Reply{Kind: ReplyNo}, "no"},
		{Reply{Kind: ReplyStop}, "stop"},
		{Reply{Kind: ReplyStart}, "start"},
		{Reply{Kind: ReplyHelp}, "help"},
		{Reply{Kind: ReplyKind(42)}, "ReplyKind(42)"},
	}
	for _, tc := range tests {
		if got := tc.given.String(); got != tc.expect {
			t.Errorf("%#v.String() = %q, expect %q", tc.given, got, tc.expect)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	for _, seed := range []string{"", "1", "１", "yes", " ＳＴＯＰ！", "停止。", "1 2", "\xff", "ſtop"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got := ParseReply(body)
		switch got.Kind {
		case ReplyChoice:
			if got.Choice < 1 || got.Choice > 9 {
				t.Fatalf("ParseReply(%q) = choice %d, expect 1..9", body, got.Choice)
			}
		case ReplyUnknown, ReplyYes, ReplyNo, ReplyStop, ReplyStart, ReplyHelp:
			if got.Choice != 0 {
				t.Fatalf("ParseReply(%q) = %v with choice %d, expect 0", body, got.Kind, got.Choice)
			}
		default:
			t.Fatalf("ParseReply(%q) kind %d out of range", body, got.Kind)
		}
		if padded := ParseReply(" \u3000" + body + "\u3000\n"); padded != got {
			t.Fatalf("padding changed ParseReply(%q) from %v to %v", body, got, padded)
		}
		if lower := ParseReply(lowerASCII(body)); lower != got {
			t.Fatalf("lower case changed ParseReply(%q) from %v to %v", body, got, lower)
		}
		if got.Kind != ReplyUnknown && utf8.RuneCountInString(normaliseReply(body)) > 11 {
			t.Fatalf("ParseReply(%q) = %v for a text longer than any keyword", body, got)
		}
		if IsOptInKeyword(body) && got.Kind != ReplyStart && got.Kind != ReplyYes {
			t.Fatalf("IsOptInKeyword(%q) but ParseReply = %v", body, got)
		}
	})
}

func TestChineseOptInAndOK(t *testing.T) {
	if r := ParseReply("開始"); r.Kind != ReplyStart || !IsOptInKeyword("开始") {
		t.Fatalf("開始/开始 must opt back in, got %v", r)
	}
	if r := ParseReply("好的"); r.Kind != ReplyYes {
		t.Fatalf("好的 = %v, want yes", r)
	}
}
