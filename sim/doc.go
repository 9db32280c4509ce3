// Package sim is the test double of the outside world: a simulated carrier
// speaking a subset of Twilio's Messaging and Calls REST APIs, simulated
// handsets that answer calls and run the platform's TwiML, and a simulated
// payment gateway. Everything is real HTTP on an Echo server and
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
// # Twilio Calls subset and the call engine
//
//	POST /2010-04-01/Accounts/{AccountSid}/Calls.json        create (To, From, Url | Twiml, Method, FallbackUrl,
//	                                                         StatusCallback, StatusCallbackEvent, StatusCallbackMethod,
//	                                                         MachineDetection, AsyncAmd, AsyncAmdStatusCallback, Timeout, TimeLimit)
//	GET  /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json  fetch
//	POST /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json  update (Status=canceled|completed, Url + Method, Twiml, StatusCallback)
//	GET  /2010-04-01/Accounts/{AccountSid}/Calls.json        list (To, From, Status, StartTime[<>], EndTime[<>], PageSize, Page, PageToken)
//
// Creates fail like Twilio's: 21201 To missing, 21213 From missing, 21211 To
// not E.164, 21217 To of impossible length, 21210 From not a platform
// number, 21205 Url missing or not an absolute http(s) URL, 21609 bad
// StatusCallback, 21626 bad StatusCallbackEvent. Redirecting a call that is
// not in progress fails with 21220.
//
// Each call runs on its own goroutine. It is initiated, then the callee
// decides: first the device hook (SetCallee: busy, no-answer or failed
// without any TwiML), then the handset script of the To number (a person
// answering on the first ring when none is set). A ring is 6 simulated
// seconds; an answer after more rings than Timeout allows is no-answer;
// failed never rings. On answer the carrier requests Url (signed like Twilio,
// with CallSid, AccountSid, From, To, CallStatus, Direction, ApiVersion and
// AnsweredBy under MachineDetection: human, machine_start or
// machine_end_beep) and runs the TwiML: <Say>, <Play>, <Pause>, <Gather>
// (dtmf and speech, numDigits, timeout, finishOnKey, action, method,
// actionOnEmptyResult; nested Say/Play/Pause), <Redirect>, <Hangup> and
// <Reject> (an inbound call whose first verb is <Reject> is never answered
// and ends busy or no-answer). Relative URLs resolve against the current
// document. Other Twilio verbs are recorded as skipped. A failed request
// (11205, 11200) or a document that is not TwiML (12100, 12200) goes to
// FallbackUrl when set, else the caller hears ApplicationErrorText and the
// call completes. Config.VoiceMaxDocuments (50) and TimeLimit (4 h) bound
// every call. Status callbacks are posted in order with CallStatus,
// SequenceNumber, Timestamp, CallbackSource=call-progress-events, and
// CallDuration on the final one. Time is simulated: every ring and every
// second of <Pause>, <Gather> timeout or caller delay takes one
// Config.VoiceTick (5ms) of real time, and call times are the carrier clock
// at creation plus simulated seconds.
//
// # Payment gateway protocol (Gateway), base URL <sim>/pay
//
//	POST /pay/v1/charges                    Authorization: Bearer <GatewayAPIKey>, Idempotency-Key
//	GET  /pay/v1/charges/{idempotency_key}  the recorded outcome, or 404 not_found
//
// # Push services and simulated apps (PushSim)
//
// NewPushSim starts a fake APNs server (HTTP/2 over TLS on its own port:
// APNsURL, and CertPool to trust it) and Register mounts a fake FCM HTTP v1
// endpoint on the simulator's Echo (FCMBase = PushConfig.SimURL + "/fcm/v1"):
//
//	POST /fcm/v1/projects/{project}/messages:send   Google's JSON; errors {"error":{code,message,status,details}}:
//	                                                404 NOT_FOUND + FcmError UNREGISTERED for an invalidated token,
//	                                                400 INVALID_ARGUMENT + BadRequest message.token for a malformed one
//	POST {APNsURL}/3/device/{token}                 HTTP/2 only (505 otherwise); 200 with apns-id, or {"reason"}:
//	                                                410 Unregistered (+ timestamp), 400 BadDeviceToken, BadMessageId,
//	                                                MissingTopic, DeviceTokenNotForTopic, PayloadEmpty, 413 PayloadTooLarge
//
// Both record every request per device token. A simulated app registers a
// made-up device token with the server's app API and receives the pushes
// sent to it; a scripted press answers the next push about a conversation
// (POST {server}/app/v1/sessions/{conv}/answer, or /renew, with an
// Idempotency-Key reused by its retries after a network error, a 5xx or a
// 409 request_in_progress):
//
//	GET    /sim/v1/pushes[?token=]                 every push received, oldest first
//	POST   /sim/v1/push/invalidate                 {"token":"…"}: both fakes refuse it as unregistered
//	GET    /sim/v1/push/faults                     armed faults
//	POST   /sim/v1/push/faults                     {"provider":"fcm|apns","status":503,"count":1}
//	DELETE /sim/v1/push/faults                     disarm all
//	POST   /sim/v1/apps                            {"phone","platform":"fcm|apns","app_token","server_url"} -> 201 App
//	                                               (502 when the server refuses the registration)
//	GET    /sim/v1/apps                            every app
//	GET    /sim/v1/apps/{id}[?answers=n&wait=10s]  the app's pushes and answers; waits for n answers
//	POST   /sim/v1/apps/{id}/script                {"press":"1|2|3|yes|no|renew","after_ms":500,"duplicate":false}
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
// Voice calls (a script's steps are taken one per <Gather>, from the first
// for each call; missing steps are silence):
//
//	GET    /sim/v1/phones/{number}/voice           the handset's voice script
//	POST   /sim/v1/phones/{number}/voice           {"answer":"human|voicemail|busy|no-answer|failed","rings":2,
//	                                               "answered_by":"","steps":[{"digits":"1","delay_s":1},{"speech":"yes"},
//	                                               {"digits":"","note":"say nothing"},{"hangup":true}]}
//	POST   /sim/v1/phones/{number}/call[?wait=10s] {"to":"<platform number>","from_withheld":false,"steps":[…]}
//	                                               an inbound call to Config.VoiceWebhookURL -> the Call
//	GET    /sim/v1/phones/{number}/calls           calls the handset received or placed, oldest first
//	GET    /sim/v1/calls                           every call
//	GET    /sim/v1/calls/{sid}[?wait=10s]          one call; wait (at most 60s) blocks until it ended
//
// A Call carries its final status and a transcript of entries {t, kind,
// text, language, voice, url, loop, code, detail}, kind one of say, play,
// pause, gather, digits, speech, timeout, redirect, hangup, status, error,
// skipped; t is the simulated second since the call was placed.
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
//	GET    /sim/v1/charges/received                charge requests received, duplicates included
//	                                               ({total, by_key, by_card})
//
// Charging rules, in order: unknown card, blacklisted, expired_card,
// debit_not_supported, decline_next (declined), prepaid balance below the
// amount (insufficient_funds); a successful prepaid charge reduces the
// balance. unavailable_next answers 503 without recording anything;
// slow_next records the outcome and answers late.
package sim
