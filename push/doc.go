// Package push is the push channel and the app's reply API.
//
// Outbound, Sender implements workflows.Sender for the "push" channel: it
// finds the driver by the message's phone number, sends one notification to
// every registered device through the device's Provider (FCM HTTP v1 or
// APNs), removes device tokens the provider reports invalid, and answers a
// non-temporary workflows.SendError with Code 0 and Message "no device" when
// no device is left, so the conversation moves to its next channel at once.
// Sends are idempotent per effect id: a send intent and each device's
// outcome are recorded before and after the provider call.
//
// A notification carries the message text as its body, a localised title,
// the conversation, meter, bay and expiry, a deep link
// "ppp://renew?c=<conversation>" and, for prompts, action buttons: extend
// ("1"), remind ("2") and open app ("3") under category "RENEWAL", or
// confirm ("yes") and cancel ("no") under "RENEWAL_QUOTE" for a quote. FCM
// receives them as data (plus the APNs category for iOS devices registered
// through FCM); APNs receives the category in aps and the rest as custom
// keys.
//
// Inbound, AppAPI serves the app under /app/v1 (mounted by cmd), each
// request authenticated by a per-user bearer token issued by IssueToken:
//
//	POST   /devices                 {"platform":"fcm|apns","token":"…"}        register a device (201, 200 if known)
//	GET    /devices                 the user's devices
//	DELETE /devices/:token          remove a device (204)
//	GET    /sessions                the user's open conversations
//	POST   /sessions/:id/answer     {"answer":"1|2|3|yes|no"}  Idempotency-Key required
//	POST   /sessions/:id/renew      answer 1, then yes if quoted  Idempotency-Key required
//
// Errors are {"error":{"code":"…","message":"…"}} with these codes:
// missing_token, invalid_token (401), rate_limited (429, Retry-After),
// forbidden (403), session_not_found, device_not_found (404),
// session_closed, idempotency_key_reused, request_in_progress,
// too_many_devices (409), invalid_json, invalid_answer, invalid_platform,
// invalid_device_token, missing_idempotency_key, invalid_idempotency_key
// (400), busy (503, Retry-After)
// and internal (500). The first response to an Idempotency-Key (status and
// body, 5xx excepted) is kept 24 hours and replayed, with
// "Idempotent-Replayed: true", to retries with the same body.
//
// # Redis keys
//
//	ppp:push:dev:{user}             hash   device token -> platform ("fcm", "apns")
//	ppp:push:owner:{sha256(token)}  string user id holding a device token (a token belongs to one install)
//	ppp:push:out:{effect}           hash   send intent: status (intent, sent, failed, expired), conv, template,
//	                                       created_ms, and dev:{token} -> sent:<provider id> | invalid | error (7 days)
//	ppp:app:tok:{sha256(token)}     string user id of an app bearer token (the token itself is never stored)
//	ppp:app:rl:{user}:{minute}      string request counter of one user in one minute (2 minutes)
//	ppp:app:idem:{user}:{key}       string the stored response of an Idempotency-Key (24 hours)
package push
