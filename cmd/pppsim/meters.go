package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"time"
)

type meterStatus struct {
	Meter struct {
		ID        string `json:"id"`
		SIMNumber string `json:"sim_number"`
		Location  string `json:"location"`
	} `json:"meter"`
	LastSeen        time.Time `json:"last_seen"`
	LastReason      string    `json:"last_reason"`
	BatteryPct      int       `json:"battery_pct"`
	InDoubt         int       `json:"in_doubt"`
	Missing         bool      `json:"missing"`
	NextWakeAt      time.Time `json:"next_wake_at"`
	PendingCommands []struct {
		CommandID string    `json:"command_id"`
		Bay       string    `json:"bay"`
		PaidUntil time.Time `json:"paid_until"`
		State     string    `json:"state"`
		History   []struct {
			At   time.Time `json:"at"`
			To   string    `json:"to"`
			Note string    `json:"note"`
		} `json:"history"`
	} `json:"pending_commands"`
	WakeAttempts []struct {
		ID      string    `json:"id"`
		At      time.Time `json:"at"`
		CallSID string    `json:"call_sid"`
		Status  string    `json:"status"`
	} `json:"wake_attempts"`
	SecurityEvents []struct {
		At     time.Time `json:"at"`
		Kind   string    `json:"kind"`
		Detail string    `json:"detail"`
	} `json:"security_events"`
	StatusEvents []struct {
		At     time.Time `json:"at"`
		Kind   string    `json:"kind"`
		Detail string    `json:"detail"`
	} `json:"status_events"`
}

// cmdMeterStatus prints the operator's view of a meter from the admin API.
func cmdMeterStatus(ctx context.Context, c *cli, args []string) error {
	pos, err := c.flags("meter status", args, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("meter status METER: %w", errUsage)
	}
	var s meterStatus
	if err := c.api.admin(ctx, "GET", "/meters/"+url.PathEscape(pos[0]), nil, &s); err != nil {
		return err
	}
	return c.print(s, func() {
		c.printf("meter %s  %s  SIM %s\n", s.Meter.ID, s.Meter.Location, s.Meter.SIMNumber)
		c.printf("  last seen %s (%s)  battery %d%%  in doubt %d  missing %t  next wake %s\n", clock(s.LastSeen), s.LastReason, s.BatteryPct, s.InDoubt, s.Missing, clock(s.NextWakeAt))
		for _, cmd := range s.PendingCommands {
			c.printf("  command %s  bay %s until %s  %s\n", cmd.CommandID, cmd.Bay, clock(cmd.PaidUntil), cmd.State)
			for _, h := range cmd.History {
				c.printf("      %s  %s %s\n", clock(h.At), h.To, h.Note)
			}
		}
		for _, w := range s.WakeAttempts {
			c.printf("  wake call %s at %s: %s\n", w.CallSID, clock(w.At), w.Status)
		}
		for _, e := range s.SecurityEvents {
			c.printf("  SECURITY %s  %s %s\n", clock(e.At), e.Kind, e.Detail)
		}
		for _, e := range s.StatusEvents {
			c.printf("  status   %s  %s %s\n", clock(e.At), e.Kind, e.Detail)
		}
	})
}

// cmdMeterFault injects a fault into a simulated meter.
func cmdMeterFault(ctx context.Context, c *cli, args []string) error {
	var powerLoss string
	var unreachable, clear bool
	pos, err := c.flags("meter fault", args, func(fs *flag.FlagSet) {
		fs.StringVar(&powerLoss, "power-loss", "", "")
		fs.BoolVar(&unreachable, "radio-unreachable", false, "")
		fs.BoolVar(&clear, "clear", false, "")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("meter fault METER [--power-loss P | --radio-unreachable | --clear]: %w", errUsage)
	}
	body := map[string]any{}
	if powerLoss != "" {
		body["power_loss"] = powerLoss
	}
	if unreachable {
		body["radio_unreachable"] = true
	}
	if err := c.api.simctl(ctx, "POST", "/meters/"+url.PathEscape(pos[0])+"/faults", body, nil); err != nil {
		return err
	}
	c.printf("meter %s faults set: %v\n", pos[0], body)
	return nil
}

// cmdMeterCommand cancels or retries a command through the admin API.
func cmdMeterCommand(action string) command {
	return func(ctx context.Context, c *cli, args []string) error {
		pos, err := c.flags("meter "+action, args, func(*flag.FlagSet) {})
		if err != nil {
			return err
		}
		if len(pos) != 2 {
			return fmt.Errorf("meter %s METER COMMAND: %w", action, errUsage)
		}
		path := "/meters/" + url.PathEscape(pos[0]) + "/commands/" + url.PathEscape(pos[1]) + "/" + action
		if err := c.api.admin(ctx, "POST", path, map[string]any{}, nil); err != nil {
			return err
		}
		c.printf("command %s: %s requested\n", pos[1], action)
		return nil
	}
}
