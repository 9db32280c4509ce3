package workflows

// Redis key schema of the workflows package. Every key starts with "ppp:".
//
//	ppp:conv:{id}              hash  v=version, s=state JSON, d=history entries dropped (retention.history)
//	ppp:conv:{id}:hist         list  history entries (JSON): the first, then the newest (retention.history)
//	ppp:convs                  zset  conversation ids by last update (ms), those older than retention.finished dropped by a sweep
//	ppp:phone:{e164}:open      zset  open conversation ids of a phone by last prompt (ms)
//	ppp:phone:{e164}:who       hash  open conversation id -> its user id and card token (routing a reply
//	                                 reads them with the conversation's id, so the driver's facts load with its state)
//	ppp:outbox                 stream effects committed and not yet handed to asynq (outbox.go), consumer group "dispatch"
//	ppp:bay:{meter}:{bay}      string the open conversation at a bay
//	ppp:phone:{e164}:stopped   set   conversations a STOP ended, brought back by START (7 days)
//	ppp:user:{id}              string user JSON
//	ppp:user:phone:{e164}      string user id of a phone
//	ppp:user:card:{token}      string user id of a card token
//	ppp:blacklist:phone        hash  e164 -> reason
//	ppp:blacklist:card         hash  card token -> reason
//	ppp:optout:sms             set   phones that sent STOP
//	ppp:alerts                 list  operator alerts (JSON), newest first, capped
//	ppp:push:dev:{user}        hash  the user's app devices (written by package push; counted here)
//	ppp:alert:seen:{id}        string marks an alert effect as raised (7 days)
//
// Keys of other packages: sms ("ppp:sms:"), devicelink ("ppp:dl:"), asynq ("asynq:").
const (
	keyConvs          = "ppp:convs"
	keyBlacklistPhone = "ppp:blacklist:phone"
	keyBlacklistCard  = "ppp:blacklist:card"
	keyOptOutSMS      = "ppp:optout:sms"
	keyAlerts         = "ppp:alerts"
	keyOutbox         = "ppp:outbox"
)

func keyConv(id string) string         { return "ppp:conv:" + id }
func keyHist(id string) string         { return "ppp:conv:" + id + ":hist" }
func keyPhoneOpen(phone string) string { return "ppp:phone:" + phone + ":open" }
func keyPhoneWho(phone string) string  { return "ppp:phone:" + phone + ":who" }
func keyBay(meter, bay string) string  { return "ppp:bay:" + meter + ":" + bay }
func keyUser(id string) string         { return "ppp:user:" + id }
func keyUserPhone(phone string) string { return "ppp:user:phone:" + phone }
func keyUserCard(token string) string  { return "ppp:user:card:" + token }

// keyPushDevices is owned by the push package (a user's app devices); the
// registry only counts them.
func keyPushDevices(userID string) string { return "ppp:push:dev:" + userID }
