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

	"ppprenew/sim/world"
)

// worldLogger logs the world's events on w at PPP_LOG_LEVEL (default info).
func worldLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToLower(getenv("PPP_LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
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
