// Package meter simulates parking meters on the device link, for testers and
// tests. Each simulated meter registers itself through the platform's admin
// API (and keeps the key it is given), uploads its payment records as a hash
// chain, applies renewal commands (paid_until = max(current, new)) through a
// write-ahead journal, remembers the command ids it applied, and
// acknowledges them. It installs new keys sent by rotate_key commands.
//
// A meter sleeps by default: it connects only to upload a payment, at its
// scheduled check-ins, after a boot, and when woken. Waking is the dial-up
// wake-and-verify path: the simulated carrier hands calls to a meter's SIM
// number to Fleet.Ring; the meter reads the caller ID, drops withheld and
// unknown numbers (counting them), rejects the call ("busy"), rate-limits
// wakes, and after its connect-back delay connects back with a hello of
// reason "wake" and its status flags, takes its commands, acks, and says bye
// after an idle time. A meter added with "online": true polls all the time
// instead.
//
// Faults (lost, duplicated, reordered and replayed messages, corrupted
// replies, lost acks, power loss at each point of taking a command, clock
// skew, an unreachable radio, failed connect-backs, a tampered or skipped
// record, a re-upload of everything) make the platform's de-duplication,
// integrity and security checks visible. Every meter keeps an event log shown
// by Get and the control routes:
//
//	POST /sim/v1/meters                       Spec -> Snapshot
//	GET  /sim/v1/meters                       {"meters":[Snapshot..]}
//	GET  /sim/v1/meters/{id}                  Snapshot
//	POST /sim/v1/meters/{id}/bays/{bay}/tap   {"card_token","minutes","amount_minor"} -> {"record","meter"}
//	POST /sim/v1/meters/{id}/poll             exchange now -> Snapshot
//	POST /sim/v1/meters/{id}/checkin          scheduled check-in now -> Snapshot
//	POST /sim/v1/meters/{id}/power-cycle      reboot -> Snapshot
//	POST /sim/v1/meters/{id}/faults           Faults -> Snapshot
//	POST /sim/v1/meters/{id}/sensors          Sensors -> Snapshot
//	POST /sim/v1/ring                         {"to","from"} -> {"outcome","handled"}
//	POST /sim/v1/tick                         run every meter's due work now -> {"meters":[..]}
package meter
