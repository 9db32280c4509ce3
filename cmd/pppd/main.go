// Command pppd is the PPP Renew server: Twilio webhooks, the meters' device
// link, the admin API and the asynq worker. With no Twilio credentials it
// runs the simulated carrier, meters and payment gateway in-process; with no
// REDIS_URL it keeps state in an embedded in-memory Redis. See README.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pppd:", err)
		os.Exit(2)
	}
	log := newLogger(cfg)
	app, err := NewApp(cfg, Options{}, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pppd:", err)
		os.Exit(1)
	}
	if err := app.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "pppd:", err)
		app.Close(context.Background())
		os.Exit(1)
	}
	fmt.Fprint(os.Stderr, "\n"+app.banner()+"\n")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	app.Close(shutdown)
}

func newLogger(cfg Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
