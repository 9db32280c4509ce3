package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ppprenew/sim/world"
)

// worldLogger logs the world's events on w at PPP_SIM_LOG_LEVEL (default
// warn: every text and status callback at info would drown the server's
// lines in a shared terminal).
func worldLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if v := getenv("PPP_SIM_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
			level = slog.LevelWarn
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With("process", "world")
}

// startWorld starts the simulated world configured by the environment.
func startWorld(getenv func(string) string, logw io.Writer) (*world.World, error) {
	cfg, err := world.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	cfg.Logger = worldLogger(getenv, logw)
	w, err := world.New(cfg)
	if err != nil {
		return nil, err
	}
	w.Start()
	return w, nil
}

// runWorld is `pppsim world`: the simulated carrier, handsets, meters,
// payment gateway and push services on PPP_SIM_ADDR until ctx ends.
func runWorld(ctx context.Context, getenv func(string) string, out, logw io.Writer) error {
	w, err := startWorld(getenv, logw)
	if err != nil {
		return err
	}
	cfg, _ := world.ConfigFromEnv(getenv)
	fmt.Fprintf(out, "The simulated world is running at %s, playing against the server at %s.\nStop it with Ctrl-C.\n", w.URL(), cfg.ServerURL)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.Close(shutdown)
	return nil
}

// runUp is `pppsim up` (what `make run` runs): the world in this process
// and the server (pppd) as a child with the same environment, so one
// command starts everything and one Ctrl-C stops both. The server prints
// the banner. When the server exits on its own, the world stops too and the
// server's exit status is returned.
func runUp(ctx context.Context, pppd string, getenv func(string) string, logw io.Writer) error {
	if pppd == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("up: where is pppd? %w (pass --pppd PATH)", err)
		}
		pppd = filepath.Join(filepath.Dir(self), "pppd")
	}
	if _, err := os.Stat(pppd); err != nil {
		return fmt.Errorf("up: the server binary %s: %w (build it with `make build`, or pass --pppd PATH)", pppd, err)
	}
	w, err := startWorld(getenv, logw)
	if err != nil {
		return err
	}
	shutdown := func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w.Close(c)
	}
	cmd := exec.Command(pppd)
	cmd.Env = append(os.Environ(), "PPP_SIM_ADDR="+w.Addr())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		shutdown()
		return fmt.Errorf("up: start %s: %w", pppd, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// A Ctrl-C in the terminal reaches the server too; a signal sent to
		// this process alone is passed on.
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			err = <-done
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && (exit.ExitCode() == 0 || exit.ExitCode() == -1) {
			err = nil
		}
	}
	shutdown()
	if err != nil {
		return fmt.Errorf("up: the server stopped: %w", err)
	}
	return nil
}

func newWorldCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "world",
		Short: "run the simulated world (carrier, phones, meters, gateway, push) until Ctrl-C",
		Long: `Run the simulated world as a process of its own: the carrier (Twilio's
Messages and Calls APIs and webhooks), the drivers' phones, the parking
meters, the payment gateway and the push services with the drivers' apps, on
PPP_SIM_ADDR (default 127.0.0.1:8081). It reads the same environment as the
server (PPP_HTTP_ADDR or PPP_PUBLIC_URL, PPP_ADMIN_TOKEN, TWILIO_*,
PPP_SMS_FROM, PPP_PAYMENT_KEY, PPP_SIM_VOICE_TICK), so one environment
configures both. The server can be stopped, killed or restarted while the
world, and everything set up in it, stays.`,
		Example: `  pppsim world &
  go run ./cmd/pppd`,
		GroupID: "world",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorld(ctx(cmd), os.Getenv, c.out, os.Stderr)
		},
	}
}

func newUpCmd(c *cli) *cobra.Command {
	var pppd string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "run the simulated world and the server together (what make run runs)",
		Long: `Run the simulated world in this process and the server (pppd) as a child
process with the same environment: one command starts everything, the server
prints where to look, and one Ctrl-C stops both. If the server stops on its
own, the world stops too and pppsim exits with an error.`,
		Example: `  pppsim up --pppd bin/pppd
  make run      # builds bin/pppd and bin/pppsim, then runs the line above`,
		GroupID: "world",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUp(ctx(cmd), pppd, os.Getenv, os.Stderr)
		},
	}
	cmd.Flags().StringVar(&pppd, "pppd", "", "the server binary (default: pppd next to pppsim)")
	return cmd
}

func newResetCmd(c *cli) *cobra.Command {
	var worldOnly bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "empty the simulated world and, on a server in sim mode, its conversations",
		Long: `Empty the simulated world (messages, phones, calls, meters, cards, charges,
apps, pushes, faults) and, only when the server runs the simulated carrier,
the server's conversations, drivers, blacklists, alerts, meters and queued
tasks. A server with the real carrier refuses and keeps everything.`,
		Example: `  pppsim reset
  pppsim reset --world-only`,
		GroupID: "world",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return reset(ctx(cmd), c, worldOnly)
		},
	}
	cmd.Flags().BoolVar(&worldOnly, "world-only", false, "leave the server alone")
	return cmd
}

func reset(ctx context.Context, c *cli, worldOnly bool) error {
	out := map[string]any{}
	if !worldOnly {
		var srv struct {
			Keys  int `json:"deleted_keys"`
			Tasks int `json:"deleted_tasks"`
		}
		if err := c.api.admin(ctx, "POST", "/reset", nil, &srv); err != nil {
			return fmt.Errorf("server at %s: %w", c.api.server, err)
		}
		out["server"] = map[string]int{"deleted_keys": srv.Keys, "deleted_tasks": srv.Tasks}
	}
	if err := c.api.simctl(ctx, "POST", "/reset", nil, nil); err != nil {
		return fmt.Errorf("world at %s: %w", c.api.sim, err)
	}
	out["world"] = "reset"
	return c.print(out, func() {
		if s, ok := out["server"].(map[string]int); ok {
			c.printf("server: %d keys and %d queued tasks deleted\n", s["deleted_keys"], s["deleted_tasks"])
		}
		c.printf("world: reset\n")
	})
}
