package main

import (
	"context"
	"fmt"
	"net/url"
	"ppprenew/sim/meter"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Meters: the simulated parking meters (sim/meter) and the platform's view
// of them, and tapping a card at a bay.

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

// powerLossPoints are where a meter can lose power in taking a renewal
// (sim/meter PowerLoss... constants).
var powerLossPoints = []string{"before_journal", "after_journal", "after_execute", "after_ack"}

func newMeterCmd(c *cli) *cobra.Command {
	return newGroupCmd("meter", "add simulated meters, show them, inject meter faults, handle their commands", "meters",
		newMeterAddCmd(c), newMeterShowCmd(c), newMeterListCmd(c), newMeterStatusCmd(c),
		newMeterFaultCmd(c), newMeterCommandCmd(c, "cancel"), newMeterCommandCmd(c, "retry"))
}

type meterAddOpts struct {
	id, simNumber, zone, location, bays string
	online                              bool
}

func newMeterAddCmd(c *cli) *cobra.Command {
	var o meterAddOpts
	cmd := &cobra.Command{
		Use:   "add --id M",
		Short: "add a simulated meter and register it with the server",
		Long: `Add a simulated meter and register it with the server. Meters sleep unless
--online; the platform wakes them with a call to their SIM (default: a number
derived from the id, one per meter).`,
		Example: `  pppsim meter add --id PM-1
  pppsim meter add --id PM-2 --zone Central --location "Pedder St" --bays 1-8 --online`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return meterAdd(ctx(cmd), c, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.id, "id", "", "the meter's id")
	f.StringVar(&o.simNumber, "sim-number", "", "the meter's SIM number (default: derived from the id)")
	f.StringVar(&o.zone, "zone", "", "the meter's zone")
	f.StringVar(&o.location, "location", "Queen's Road Central", "where the meter stands")
	f.StringVar(&o.bays, "bays", "1-20", "its bays: a range like 1-20 or a list like 1,2,7")
	f.BoolVar(&o.online, "online", false, "keep the meter online, polling the platform")
	required(cmd, "id")
	return cmd
}

func meterAdd(ctx context.Context, c *cli, o meterAddOpts) error {
	simNumber := o.simNumber
	if simNumber == "" {
		simNumber = simNumberFor(o.id)
	}
	list, err := meter.ParseBays(o.bays)
	if err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	var snap meterSnapshot
	if err := c.api.simctl(ctx, "POST", "/meters", map[string]any{"id": o.id, "sim_number": simNumber, "zone": o.zone, "location": o.location, "bays": list, "online": o.online}, &snap); err != nil {
		return err
	}
	return c.print(snap, func() {
		state := "asleep: it wakes when the platform calls its SIM"
		if o.online {
			state = "online: it polls the platform"
		}
		c.printf("meter %s registered with the server (%d bays, SIM %s), %s\n", o.id, len(list), simNumber, state)
	})
}

func newMeterShowCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "show METER",
		Short:   "bays, paid-until, commands and the meter's event log",
		Example: `  pppsim meter show PM-1`,
		Args:    exactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return meterShow(ctx(cmd), c, args[0]) },
	}
}

func meterShow(ctx context.Context, c *cli, id string) error {
	var m meterSnapshot
	if err := c.api.simctl(ctx, "GET", "/meters/"+url.PathEscape(id), nil, &m); err != nil {
		return err
	}
	return c.print(m, func() {
		c.printf("meter %s  %s  zone %q  last exchange %s\n", m.ID, m.Location, m.Zone, clock(m.LastExchange))
		if m.LastError != "" {
			c.printf("  last error: %s\n", m.LastError)
		}
		for _, b := range m.Bays {
			if !b.PaidUntil.IsZero() {
				c.printf("  bay %-4s paid until %s  %s\n", b.Bay, clock(b.PaidUntil), b.Card)
			}
		}
		if len(m.Events) > 0 {
			c.printf("  events:\n")
			for _, e := range m.Events {
				c.printf("    %s  %s\n", clock(e.At), e.What)
			}
		}
	})
}

func newMeterListCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "the simulated meters",
		Example: `  pppsim meter list --json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var list struct {
				Meters []meterSnapshot `json:"meters"`
			}
			if err := c.api.simctl(ctx(cmd), "GET", "/meters", nil, &list); err != nil {
				return err
			}
			ms := list.Meters
			return c.print(ms, func() {
				for _, m := range ms {
					c.printf("%-12s %-28s zone %-10q %d bays  last exchange %s\n", m.ID, m.Location, m.Zone, len(m.Bays), clock(m.LastExchange))
				}
			})
		},
	}
}

// newMeterStatusCmd prints the operator's view of a meter from the admin API.
func newMeterStatusCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "status METER",
		Short:   "the platform's view: last seen, battery, commands, wake attempts, events",
		Example: `  pppsim meter status PM-1`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var s meterStatus
			if err := c.api.admin(ctx(cmd), "GET", "/meters/"+url.PathEscape(args[0]), nil, &s); err != nil {
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
		},
	}
}

// newMeterFaultCmd injects a fault into a simulated meter.
func newMeterFaultCmd(c *cli) *cobra.Command {
	var powerLoss string
	var unreachable, clear bool
	cmd := &cobra.Command{
		Use:   "fault METER [--power-loss P | --radio-unreachable | --clear]",
		Short: "make a simulated meter lose power or its radio (see pppsim fault list)",
		Long: `Set the faults of a simulated meter, replacing those it had: --power-loss makes
it lose power at that point of taking its next renewal command (it reboots and
says hello), --radio-unreachable makes it unreachable by radio. --clear, or no
flag, clears its faults.`,
		Example: `  pppsim meter fault PM-1 --power-loss after_execute
  pppsim meter fault PM-1 --radio-unreachable
  pppsim meter fault PM-1 --clear`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if powerLoss != "" {
				body["power_loss"] = powerLoss
			}
			if unreachable {
				body["radio_unreachable"] = true
			}
			if err := c.api.simctl(ctx(cmd), "POST", "/meters/"+url.PathEscape(args[0])+"/faults", body, nil); err != nil {
				return err
			}
			c.printf("meter %s faults set: %v\n", args[0], body)
			return nil
		},
	}
	enumFlag(cmd, &powerLoss, "power-loss", "", "lose power at this point of taking the next renewal", powerLossPoints...)
	cmd.Flags().BoolVar(&unreachable, "radio-unreachable", false, "the meter cannot be reached by radio")
	cmd.Flags().BoolVar(&clear, "clear", false, "clear the meter's faults")
	cmd.MarkFlagsMutuallyExclusive("clear", "power-loss")
	cmd.MarkFlagsMutuallyExclusive("clear", "radio-unreachable")
	return cmd
}

// newMeterCommandCmd cancels or retries a command through the admin API.
func newMeterCommandCmd(c *cli, action string) *cobra.Command {
	return &cobra.Command{
		Use:     action + " METER COMMAND",
		Short:   action + " a meter command (operator)",
		Example: fmt.Sprintf("  pppsim meter %s PM-1 cmd_0123", action),
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/meters/" + url.PathEscape(args[0]) + "/commands/" + url.PathEscape(args[1]) + "/" + action
			if err := c.api.admin(ctx(cmd), "POST", path, map[string]any{}, nil); err != nil {
				return err
			}
			c.printf("command %s: %s requested\n", args[1], action)
			return nil
		},
	}
}

type tapOpts struct {
	meter, bay, phone, card string
	minutes                 int
	dur                     time.Duration
	amount                  int64
}

func newTapCmd(c *cli) *cobra.Command {
	var o tapOpts
	cmd := &cobra.Command{
		Use:   "tap --meter M --bay B (--phone P | --card TOKEN)",
		Short: "tap a card at a meter's bay to pay for parking",
		Long: `Tap a card at a simulated meter's bay: the meter records the payment and
uploads it to the server, which then reminds the driver before it ends.
--phone taps the card of that registered driver; --card taps a card token.`,
		GroupID: "meters",
		Example: `  pppsim tap --meter PM-1 --bay 3 --phone +85291234567
  pppsim tap --meter PM-1 --bay 4 --card tok_abc --minutes 60 --amount 20.00
  pppsim tap --meter PM-1 --bay 5 --phone +85291234567 --for 90s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return tap(ctx(cmd), c, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.meter, "meter", "", "the meter's id")
	f.StringVar(&o.bay, "bay", "", "the bay")
	f.StringVar(&o.phone, "phone", "", "tap the card of this registered driver")
	f.StringVar(&o.card, "card", "", "tap this card token")
	f.IntVar(&o.minutes, "minutes", 30, "minutes paid")
	f.DurationVar(&o.dur, "for", 0, "time paid, like 90s (instead of --minutes)")
	amountFlag(f, &o.amount, "amount", 1000, "amount paid")
	required(cmd, "meter", "bay")
	cmd.MarkFlagsOneRequired("phone", "card")
	cmd.MarkFlagsMutuallyExclusive("phone", "card")
	cmd.MarkFlagsMutuallyExclusive("minutes", "for")
	return cmd
}

func tap(ctx context.Context, c *cli, o tapOpts) error {
	token := o.card
	if token == "" {
		u, err := c.userByPhone(ctx, o.phone)
		if err != nil {
			return fmt.Errorf("find the card of %s: %w", o.phone, err)
		}
		// The admin API masks tokens; the simulated gateway knows the card.
		var cards []card
		if err := c.api.simctl(ctx, "GET", "/cards", nil, &cards); err != nil {
			return err
		}
		for _, cd := range cards {
			if strings.HasSuffix(cd.Token, strings.TrimPrefix(u.CardToken, "****")) && cd.Last4 == u.CardLast4 {
				token = cd.Token
			}
		}
		if token == "" {
			return fmt.Errorf("the card of %s is not known to the simulated gateway; use --card", o.phone)
		}
	}
	body := map[string]any{"card_token": token, "minutes": o.minutes, "amount_minor": o.amount}
	if o.dur > 0 {
		body["seconds"] = int(o.dur / time.Second)
	}
	var res struct {
		Record struct {
			Seq       uint64    `json:"seq"`
			TxnID     string    `json:"txn_id"`
			PaidUntil time.Time `json:"paid_until"`
		} `json:"record"`
	}
	if err := c.api.simctl(ctx, "POST", "/meters/"+url.PathEscape(o.meter)+"/bays/"+url.PathEscape(o.bay)+"/tap", body, &res); err != nil {
		return err
	}
	rec := res.Record
	return c.print(res, func() {
		c.printf("tapped card at meter %s bay %s: transaction %s, paid until %s (uploaded to the server)\n", o.meter, o.bay, rec.TxnID, clock(rec.PaidUntil))
	})
}
