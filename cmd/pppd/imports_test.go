package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The server talks to the simulated world only over HTTP, as to Twilio: it
// imports nothing of it, so a server crash leaves the world running.
func TestServerDoesNotImportTheSimulatedWorld(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "ppprenew/cmd/pppd").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var deps int
	for _, p := range strings.Fields(string(out)) {
		deps++
		if p == "ppprenew/sim" || strings.HasPrefix(p, "ppprenew/sim/") {
			t.Errorf("pppd imports %s", p)
		}
	}
	if deps < 10 {
		t.Fatalf("go list named only %d packages: %s", deps, out)
	}
}
