package sms

import "testing"

func BenchmarkSegments(b *testing.B) {
	for name, body := range map[string]string{
		"gsm7": "Demo City Parking: bay 12 at Queen's Road Central ends 13:38. Reply 1 to extend 30 min, 2 for a reminder before 13:48, 3 to renew in the app.",
		"ucs2": "Demo City Parking：Queen's Road Central 12號車位於13:38到期。回覆1即續30分鐘，2於13:48前提醒，3用App續期。",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Segments(body)
			}
		})
	}
}

func BenchmarkParseReply(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ParseReply(" １ ")
		ParseReply("確認")
		ParseReply("stop")
	}
}
