package ivr

// Redis key schema of the ivr package. Every key starts with "ppp:ivr:".
//
//	ppp:ivr:out:{effect id}     hash   one outbound call: intent, conversation, to, template, call sid
//	ppp:ivr:call:{CallSid}      string a call's session (JSON): conversation, driver, step, PIN state
//	ppp:ivr:status:{CallSid}    string the call's last status (a final one is never replaced)
//	ppp:ivr:resp:{step}         string the TwiML answer of one webhook step (replayed to duplicates)
//	ppp:ivr:lock:{step}         string one delivery of a step at a time
//	ppp:ivr:answered:{step}     pub/sub channel announcing a step's answer to waiting duplicates
//	ppp:ivr:fallback:{key}      string a call's fallback (a text instead) already sent
//	ppp:ivr:pin:{user}          string wrong PIN entries in the lockout window
//	ppp:ivr:pinlock:{user}      string the driver's PIN entry is locked

func keyOut(effectID string) string  { return "ppp:ivr:out:" + effectID }
func keyCall(sid string) string      { return "ppp:ivr:call:" + sid }
func keyStatus(sid string) string    { return "ppp:ivr:status:" + sid }
func keyResp(step string) string     { return "ppp:ivr:resp:" + step }
func keyLock(step string) string     { return "ppp:ivr:lock:" + step }
func chanResp(step string) string    { return "ppp:ivr:answered:" + step }
func keyFallback(key string) string  { return "ppp:ivr:fallback:" + key }
func keyPINTries(user string) string { return "ppp:ivr:pin:" + user }
func keyPINLock(user string) string  { return "ppp:ivr:pinlock:" + user }
