// Package sim is the test double of the outside world: a simulated carrier
// speaking a subset of Twilio's Messaging REST API, simulated handsets, and
// a simulated payment gateway. Everything is real HTTP on an Echo server and
// in-memory state, so it runs inside tests and inside the dev server without
// Redis or accounts.
//
// # Twilio REST subset (Carrier)
//
// Basic auth AccountSID / AuthToken, as the twilio-go client sends it:
//
//	POST /2010-04-01/Accounts/{AccountSid}/Messages.json       create (To, From, Body, StatusCallback, ValidityPeriod)
//	GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json fetch
//	GET  /2010-04-01/Accounts/{AccountSid}/Messages.json       list (To, From, DateSent, DateSent<, DateSent>, PageSize, Page, PageToken)
//
// Creates fail like Twilio's: 21211 invalid To, 21606 From not a platform
// number, 21610 recipient opted out (texted STOP to that From), 21602 empty
// body, 21617 body over 1600 characters, 20003 bad credentials. Accepted
// messages then move queued -> sent -> delivered (or the handset's
// behaviour), each change POSTed to StatusCallback with X-Twilio-Signature.
// A message still queued after its ValidityPeriod fails with 30036.
//
// Inbound texts from handsets are POSTed to Config.SMSWebhookURL with
// Twilio's parameters, X-Twilio-Signature and I-Twilio-Idempotency-Token;
// <Message> verbs in a 2xx TwiML answer are sent back to the handset.
//
// # Payment gateway protocol (Gateway), base URL <sim>/pay
//
//	POST /pay/v1/charges                    Authorization: Bearer <GatewayAPIKey>, Idempotency-Key
//	GET  /pay/v1/charges/{idempotency_key}  the recorded outcome, or 404 not_found
//
// # Control routes (JSON, for testers and tests)
//
// Handsets and messages:
//
//	GET    /sim/v1/phones                          every handset seen: number, behaviour, opted_out_from
//	GET    /sim/v1/phones/{number}                 one handset
//	POST   /sim/v1/phones/{number}                 {"behaviour":"ok|unreachable|landline|filtered"}
//	POST   /sim/v1/phones/{number}/sms             {"to":"<platform number>","body":"1","duplicate":false}
//	                                               -> {"message_sid","webhook_status","webhook_body","deliveries","replies"}
//	GET    /sim/v1/phones/{number}/messages        messages sent to the handset, oldest first; ?since=<sid>
//	GET    /sim/v1/messages                        every outbound message with status history and callbacks
//
// Faults (each applies to the next "count" events, default 1):
//
//	GET    /sim/v1/faults                          armed faults
//	POST   /sim/v1/faults                          {"kind":"…","count":N,"delay_ms":M}
//	DELETE /sim/v1/faults                          disarm all
//
// Kinds: messages_5xx (500, 20500), messages_429 (429, 20429),
// messages_timeout (message accepted and delivered, HTTP answer held
// delay_ms), status_duplicate (every callback posted twice),
// status_out_of_order (callbacks posted terminal-first), queue_delay
// (message held queued until the simulated clock passes created+delay_ms).
//
// Handset behaviours: ok (sent, delivered), unreachable (sent, undelivered
// 30003), landline (failed 30006), filtered (sent, undelivered 30007).
//
// Cards and charges:
//
//	POST   /sim/v1/cards                           {"kind":"credit|prepaid|debit","last4":"4242","balance_minor":5000,"expired":false,"blacklisted":false}
//	GET    /sim/v1/cards                           every card
//	GET    /sim/v1/cards/{token}                   one card
//	PATCH  /sim/v1/cards/{token}                   same fields plus "decline_next":n, "unavailable_next":n,
//	                                               "slow_next":{"count":n,"delay_ms":m}
//	GET    /sim/v1/charges                         every recorded charge (key, token, amount, status, code)
//
// Charging rules, in order: unknown card, blacklisted, expired_card,
// debit_not_supported, decline_next (declined), prepaid balance below the
// amount (insufficient_funds); a successful prepaid charge reduces the
// balance. unavailable_next answers 503 without recording anything;
// slow_next records the outcome and answers late.
package sim
