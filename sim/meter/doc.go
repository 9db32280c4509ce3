// Package meter simulates parking meters on the device link, for testers and
// tests. Each simulated meter registers itself through the platform's admin
// API (and keeps the key it is given), then stays online: it polls the
// platform's exchange endpoint, uploads its payment records as a hash chain,
// applies renewal commands (paid_until = max(current, new)), remembers the
// command ids it applied, and acknowledges them.
//
// Faults (lost replies, lost messages, lost acks, a tampered or skipped
// record, a re-upload of everything) make the platform's de-duplication and
// integrity checks visible. Every meter keeps an event log shown by Get and
// the control routes:
//
//	POST /sim/v1/meters                       {"id","sim_number","zone","location","bays":[..],"currency"}
//	GET  /sim/v1/meters                       {"meters":[Snapshot..]}
//	GET  /sim/v1/meters/{id}                  Snapshot
//	POST /sim/v1/meters/{id}/bays/{bay}/tap   {"card_token","minutes","amount_minor"} -> {"record","meter"}
//	POST /sim/v1/meters/{id}/poll             exchange now -> Snapshot
//	POST /sim/v1/meters/{id}/faults           Faults -> Snapshot
//
// Waking sleeping meters by a phone call is not simulated yet: meters here
// are always online.
package meter
