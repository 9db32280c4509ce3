// Package scenario runs testers' scenarios: YAML files that set up a
// simulated world (meters, drivers, cards, handsets), then drive it step
// by step (taps, texts, calls, app presses, faults) and check what the
// driver received and what the server and the world recorded.
//
// Load reads and checks files strictly: every problem of every file is
// reported as file:line:col before anything runs. A Runner runs scenarios
// in parallel against one running server (its admin API) and one world
// (the /sim/v1 control API): phone numbers, meter ids and cards are drawn
// afresh for every run, so runs never see each other and a scenario can be
// re-run without a reset. Output and diffs show the scenario's own names.
//
// The format and the step kinds are documented in docs/scenarios.md.
package scenario
