// Package payment charges registered cards through the payment gateway.
//
// The gateway speaks a small JSON protocol over HTTPS:
//
//	POST {base}/v1/charges                  create a charge (Idempotency-Key header)
//	GET  {base}/v1/charges/{idempotency_key} look up the outcome recorded for a key
//
// A charge request is idempotent per key: the same key with the same body
// always yields the same outcome and never charges twice. HTTPGateway never
// re-posts a charge by itself; when the outcome of a POST is unknown (timeout,
// connection error, 5xx) it looks the key up and returns ErrUnavailable only
// when the gateway has no record of it, which makes a later retry with the same
// key safe.
package payment
