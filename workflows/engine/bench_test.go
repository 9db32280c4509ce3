package engine

import (
	"testing"
	"time"
)

// BenchmarkStep is the pure engine: one conversation from notice to quote.
func BenchmarkStep(b *testing.B) {
	set, err := LoadSettings("")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)
	u := User{ID: "u", Phone: "+85291234567", Language: "en", CardToken: "tok", CardLast4: "4242", CardKind: CardCredit}
	p := PaymentInput{TxnID: "T", MeterID: "M", Bay: "1", CardToken: "tok", PaidAt: now, PaidUntil: now.Add(30 * time.Minute)}
	b.ReportAllocs()
	for b.Loop() {
		st, _ := Open(set, u, p, Facts{}, now)
		tm := st.Timers[TimerNotice]
		st, _ = Step(set, st, Input{Kind: InputTimer, Timer: &TimerInput{Kind: TimerNotice, ID: tm.ID}}, tm.At)
		Step(set, st, Input{Kind: InputReply, Reply: &ReplyInput{Answer: AnswerOne, Channel: "sms"}}, tm.At)
	}
}
