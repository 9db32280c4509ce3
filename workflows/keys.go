package workflows

// Redis key schema of the workflows package. Every key starts with "ppp:".
//
//	ppp:conv:{id}              hash  v=version, s=state JSON, e=effects of the last step (for recovery),
//	                                 d=history entries dropped (retention.history)
//	ppp:conv:{id}:hist         list  history entries (JSON): the first, then the newest (retention.history)
//	ppp:convs                  zset  conversation ids by last update (ms), those older than retention.finished dropped by a sweep
//	ppp:phone:{e164}:open      zset  open conversation ids of a phone by last prompt (ms)
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
)

func keyConv(id string) string         { return "ppp:conv:" + id }
func keyHist(id string) string         { return "ppp:conv:" + id + ":hist" }
func keyPhoneOpen(phone string) string { return "ppp:phone:" + phone + ":open" }
func keyBay(meter, bay string) string  { return "ppp:bay:" + meter + ":" + bay }
func keyUser(id string) string         { return "ppp:user:" + id }
func keyUserPhone(phone string) string { return "ppp:user:phone:" + phone }
func keyUserCard(token string) string  { return "ppp:user:card:" + token }

// keyPushDevices is owned by the push package (a user's app devices); the
// registry only counts them.
func keyPushDevices(userID string) string { return "ppp:push:dev:" + userID }
