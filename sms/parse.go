package sms

import (
	"fmt"
	"strings"
	"unicode"
)

// ReplyKind is what an inbound text asks for.
type ReplyKind int

const (
	// ReplyUnknown is a text that is not one of the recognised replies.
	ReplyUnknown ReplyKind = iota
	// ReplyChoice picks a numbered option; Reply.Choice holds 1 to 9.
	ReplyChoice
	// ReplyYes confirms what was last asked (a quote, a renewal).
	ReplyYes
	// ReplyNo declines what was last asked.
	ReplyNo
	// ReplyStop asks for no more messages (an opt-out).
	ReplyStop
	// ReplyStart asks for messages again after an opt-out (an opt-in).
	ReplyStart
	// ReplyHelp asks for the help text.
	ReplyHelp
)

// String returns the lower-case name of the kind, such as "choice" or "stop".
func (k ReplyKind) String() string {
	switch k {
	case ReplyUnknown:
		return "unknown"
	case ReplyChoice:
		return "choice"
	case ReplyYes:
		return "yes"
	case ReplyNo:
		return "no"
	case ReplyStop:
		return "stop"
	case ReplyStart:
		return "start"
	case ReplyHelp:
		return "help"
	default:
		return fmt.Sprintf("ReplyKind(%d)", int(k))
	}
}

// Reply is the meaning of an inbound text.
type Reply struct {
	// Kind is what the text asks for.
	Kind ReplyKind
	// Choice is the option picked, 1 to 9, when Kind is ReplyChoice; otherwise 0.
	Choice int
}

// String returns the kind, followed by the option for a choice ("choice 2").
func (r Reply) String() string {
	if r.Kind == ReplyChoice {
		return fmt.Sprintf("choice %d", r.Choice)
	}
	return r.Kind.String()
}

// Words this product accepts on top of Twilio's defaults (see keywords.go).
var (
	yesWords    = []string{"YES", "Y", "OK", "是", "好", "好的", "確認", "确认", "確定", "确定"}
	noWords     = []string{"NO", "N", "否", "取消", "不"}
	extendWords = []string{"EXTEND", "RENEW", "續期", "续期", "延長", "延长"}
	stopWordsZH = []string{"停止", "退訂", "退订"}
	helpWordsZH = []string{"幫助", "帮助"}
	// numeralWords holds the Chinese numerals 1 to 9, followed by the financial forms of 1 to 3
	// (traditional and simplified).
	numeralWords = map[string]int{
		"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
		"壹": 1, "貳": 2, "贰": 2, "參": 3, "叁": 3,
	}
)

// replyWords maps a normalised reply text to its meaning.
var replyWords = buildReplyWords()

func buildReplyWords() map[string]Reply {
	m := make(map[string]Reply)
	set := func(words []string, r Reply) {
		for _, w := range words {
			m[w] = r
		}
	}
	set(OptOutKeywords, Reply{Kind: ReplyStop})
	set(stopWordsZH, Reply{Kind: ReplyStop})
	set(OptInKeywords, Reply{Kind: ReplyStart})
	set([]string{"開始", "开始"}, Reply{Kind: ReplyStart})
	set(HelpKeywords, Reply{Kind: ReplyHelp})
	set(helpWordsZH, Reply{Kind: ReplyHelp})
	set(noWords, Reply{Kind: ReplyNo})
	set(extendWords, Reply{Kind: ReplyChoice, Choice: 1})
	// Set last: YES is also in OptInKeywords, and in a conversation it is a confirmation.
	set(yesWords, Reply{Kind: ReplyYes})
	for d := 1; d <= 9; d++ {
		m[string(rune('0'+d))] = Reply{Kind: ReplyChoice, Choice: d}
	}
	for w, d := range numeralWords {
		m[w] = Reply{Kind: ReplyChoice, Choice: d}
	}
	return m
}

// ParseReply reads an inbound text as a reply to a renewal prompt.
//
// The text is normalised first: full-width ASCII forms (ＹＥＳ, １) become ASCII, ASCII letters
// are compared without case, white space (including the ideographic space U+3000) is trimmed
// from both ends, and trailing full stops and exclamation marks (. ! 。 ！) are dropped. What is
// left must be exactly one of:
//
//   - a digit 1 to 9, or a Chinese numeral 一 to 九 (also 壹, 貳/贰, 參/叁): ReplyChoice;
//   - EXTEND, RENEW, 續期/续期, 延長/延长: ReplyChoice 1 (extend now);
//   - YES, Y, OK, 是, 好, 確認/确认, 確定/确定: ReplyYes;
//   - NO, N, 否, 取消, 不: ReplyNo;
//   - one of OptOutKeywords, or 停止, 退訂/退订: ReplyStop;
//   - START or UNSTOP: ReplyStart;
//   - one of HelpKeywords, or 幫助/帮助: ReplyHelp.
//
// Anything else, including "12", "1 2", "stop please" and the empty text, is ReplyUnknown.
//
// CANCEL is ReplyStop, not ReplyNo, because Twilio blocks the sender on CANCEL whatever the
// conversation meant by it; 取消 is not a Twilio keyword and stays ReplyNo. YES is ReplyYes even
// though Twilio also treats it as an opt-in; see IsOptInKeyword.
func ParseReply(body string) Reply {
	return replyWords[normaliseReply(body)]
}

// IsOptInKeyword reports whether body, normalised as ParseReply does, is one of Twilio's
// opt-in keywords START, YES or UNSTOP.
//
// ParseReply returns ReplyYes for YES, because inside a conversation YES confirms a quote. Twilio
// nevertheless lifts its block for a sender who texts YES, so an inbound handler should call
// IsOptInKeyword as well as ParseReply: when the sender is opted out, a true result means the
// opt-out must be cleared (and ReplyYes treated as the opt-in, not as a confirmation of an old
// quote); when the sender is not opted out, ParseReply's meaning applies alone.
func IsOptInKeyword(body string) bool {
	return optInWords[normaliseReply(body)]
}

// optInWords is the set of OptInKeywords.
var optInWords = buildOptInWords()

func buildOptInWords() map[string]bool {
	m := make(map[string]bool, len(OptInKeywords))
	for _, w := range OptInKeywords {
		m[w] = true
	}
	m["開始"], m["开始"] = true, true
	return m
}

// normaliseReply folds full-width ASCII to ASCII and ASCII letters to upper case, then trims
// white space from both ends and trailing full stops and exclamation marks from the end.
func normaliseReply(body string) string {
	var b strings.Builder
	b.Grow(len(body))
	for _, r := range body {
		switch {
		case r >= '！' && r <= '～': // U+FF01..U+FF5E, full-width forms of U+0021..U+007E
			r -= '！' - '!'
		case r == '\u3000':
			r = ' '
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	s := strings.TrimLeftFunc(b.String(), isReplyPadding)
	return strings.TrimRightFunc(s, func(r rune) bool {
		return isReplyPadding(r) || r == '.' || r == '!' || r == '。' || r == '｡'
	})
}

// isReplyPadding reports whether r is white space or an invisible character (zero-width space,
// byte order mark) that some keyboards add.
func isReplyPadding(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}
