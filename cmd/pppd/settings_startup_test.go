package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ppprenew/workflows/engine"
)

// A bad PPP_SETTINGS_FILE stops the start-up with every problem, each at
// the file's line and column.
func TestStartupReportsSettingsProblemsWithPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	y := string(engine.DefaultSettingsYAML())
	for old, repl := range map[string]string{"lead_time: 10m ": "lead_time: -5m ", "  - channel: sms": "  - channel: fax"} {
		y = strings.Replace(y, old, repl, 1)
	}
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(func(k string) string {
		return map[string]string{
			"PPP_HTTP_ADDR": "127.0.0.1:0", "PPP_SIM_ADDR": "127.0.0.1:0", "PPP_CARRIER": "sim",
			"PPP_MASTER_KEY": testMasterKey, "PPP_SETTINGS_FILE": path,
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	app, err := NewApp(cfg, Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		app.Close(t.Context())
		t.Fatal("the service started with invalid settings")
	}
	for _, want := range []string{
		path + ":9:12: lead_time: must be a positive duration such as 5m",
		path + `:24:14: escalation[1].channel: "fax" must be push, sms or voice`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start-up error\n%v\nlacks %q", err, want)
		}
	}
}
