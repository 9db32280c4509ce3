package sms

import "strconv"

// Redis key schema of the sms package. Every key starts with "ppp:sms:".
//
//	ppp:sms:in:{MessageSid}        string an inbound message already taken (de-duplication, DedupeTTL)
//	ppp:sms:out:{effect id}        hash   one outbound message: status, rank, to, conv, template, body, sid…
//	ppp:sms:pace:{from}:{second}   string texts sent from a number in one second (pacing)

func keyIn(sid string) string { return "ppp:sms:in:" + sid }
func keyOut(id string) string { return "ppp:sms:out:" + id }
func keyPace(from string, sec int64) string {
	return "ppp:sms:pace:" + from + ":" + strconv.FormatInt(sec, 10)
}
