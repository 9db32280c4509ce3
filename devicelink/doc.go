// Package devicelink is the platform side of the link to parking meters.
//
// It keeps the meter registry and each meter's key (stored encrypted, rotated
// by rotate_key commands), authenticates and decrypts the envelopes meters
// send, verifies and records their payment transaction uploads (a SHA-256
// hash chain per meter), and runs the life of the commands sent down to
// meters until a meter takes and acknowledges them.
//
// A meter opens an HTTPS exchange (POST /device/v1/exchange) whose body is one
// envelope holding one meter message (hello, upload, poll, ack, bye); the
// answer is one envelope holding a Reply that always carries the commands
// pending for that meter. What meters report reaches the rest of the platform
// through a Sink, called only after the report is stored durably in Redis; a
// Sink that also implements FailureSink hears of commands that ended without
// reaching the meter.
//
// Meters sleep. A command for a meter without an open session arms the
// meter's wake timer; when it fires (asynq task TaskWake, or the periodic
// TaskSweep for a lost task) the wake step asks the Waker to call the
// meter's SIM number from the platform's caller ID (DialUpWaker), one call
// in flight per meter, retrying on the back-off schedule of Config until the
// command's not_after. The meter refuses the call and connects back with a
// hello of reason "wake"; a wake hello that matches no recorded attempt is a
// security event, as are refused envelopes. Hello status flags become status
// events. Every timer is in Config and the clock is injected, so tests run
// the whole lifecycle on a fake clock by calling Sweep.
//
// The envelope is a stable wire format: see envelope.go. The Redis key schema
// is documented in keys.go. Command states and their allowed transitions are
// in states.go; the wake step is described in wake.go.
package devicelink
