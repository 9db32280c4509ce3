// Package engine is the renewal conversation itself, without I/O:
// Open(settings, user, payment, facts, now) and Step(settings, state, input,
// now) return the new state and the effects to carry out (messages, timers,
// charges, meter renewals, operator alerts). The operator's settings,
// tariffs and templates, the escalation across channels, message validity
// and the voice menus are here too. The engine reads no clock, store or
// network; package workflows stores the state in Redis and carries the
// effects out through asynq. The golden transcripts in
// testdata/transcripts pin its behaviour (rewrite them with
// `go test ./workflows/engine -run TestTranscripts -update`).
package engine
