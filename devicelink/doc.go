// Package devicelink is the platform side of the link to parking meters.
//
// It keeps the meter registry and each meter's key, authenticates and
// decrypts the envelopes meters send, verifies and records their payment
// transaction uploads (a SHA-256 hash chain per meter), and queues renewal
// commands until a meter takes and acknowledges them.
//
// A meter opens an HTTPS exchange (POST /device/v1/exchange) whose body is one
// envelope holding one meter message (hello, upload, poll, ack, bye); the
// answer is one envelope holding a Reply that always carries the commands
// pending for that meter. What meters report reaches the rest of the platform
// through a Sink, called only after the report is stored durably in Redis.
//
// The envelope is a stable wire format: see envelope.go. The Redis key schema
// is documented in keys.go. Command states and their allowed transitions are
// in states.go.
package devicelink
