package engine

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The engine is the pure conversation: Step and Open take a state, an input
// and the time, and return a state and effects. Whatever does I/O (Redis,
// queues, HTTP, Twilio, databases, processes) belongs to its callers, so
// the engine runs alone, as in the golden transcripts.
var ioPackages = []string{
	"github.com/redis/go-redis",
	"github.com/hibiken/asynq",
	"github.com/labstack/echo",
	"github.com/twilio/twilio-go",
	"net/http",
	"database/sql",
	"os/exec",
}

func TestEngineImportsNoIO(t *testing.T) {
	const self = "ppprenew/workflows/engine"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", self).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", self, err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, self) || !slices.Contains(deps, "time") {
		t.Fatalf("go list named neither %s nor time: %s", self, out)
	}
	for _, p := range deps {
		for _, b := range ioPackages {
			if p == b || strings.HasPrefix(p, b+"/") {
				t.Errorf("the engine imports %s (I/O belongs to package workflows and the channels)", p)
			}
		}
	}
}
