package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ppprenew/sim/load"
)

// newLoadCmd is `pppsim load`: many drivers renewing at once through the
// world and the server, with latency percentiles and exactly-once counts.
func newLoadCmd(c *cli) *cobra.Command {
	var o load.Options
	var mix string
	cmd := &cobra.Command{
		Use:   "load --drivers N --rate R [--mix sms=70,voice=20,app=10] [--duration D]",
		Short: "many drivers renewing at a steady rate, with latencies and exactly-once counts",
		Long: `Drive N drivers through the simulated world and the server, over HTTP only.
Each driver gets a card, a registration, a meter of its own and, by the mix,
answers by SMS (1, then 1 to confirm the quote), by voice (the handset keys
1, then 1) or in the app (its renew button). Journeys start at R new payments
a second: each pays at its meter for exactly the server's lead time, so the
expiry notice is due at once, answers it and waits for the confirmation.

No new journey starts after --duration; those in flight get --drain to end.
Then the world's records are read for every driver: charges that succeeded,
charge requests the gateway received (a repeat shows), renewals the meter
executed and confirmations sent. Each must be exactly 1; the command exits 1
when any driver's is not.

Before anything is set up, a run the world cannot carry is refused, saying
why: more texts a second than the server's SMS pacing (PPP_SMS_RATE), more
calls in progress than the world's voice simulation carries, a server not in
sim mode, an unreachable server or world. Voice drivers let calls reach them
at any hour, so a run does not depend on the time of day; with
--respect-quiet-hours they keep the server's quiet hours (no calls then), and a
run that falls in them is warned of.

Each run takes phone numbers, cards and meters of its own (a random run
prefix), so runs repeat against one server without a reset.`,
		Example: `  pppsim load --drivers 20 --rate 2
  pppsim load --drivers 200 --rate 5 --mix sms=50,voice=25,app=25 --duration 1m
  pppsim --json load --drivers 50 --rate 3 --mix sms=100`,
		GroupID: "world",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := noArgs(cmd, args); err != nil {
				return err
			}
			if err := checkRequired(cmd); err != nil {
				return err
			}
			m, err := load.ParseMix(mix)
			if err != nil {
				return fmt.Errorf("--mix: %w", err)
			}
			o.Mix = m
			o.Server, o.Sim, o.AdminToken = c.server, c.sim, c.adminToken
			if err := o.Validate(); err != nil {
				return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !c.json {
				errw := cmd.ErrOrStderr()
				o.Logf = func(format string, a ...any) { fmt.Fprintf(errw, format+"\n", a...) }
			}
			res, err := load.Run(ctx(cmd), o)
			if err != nil {
				return err
			}
			if err := c.print(res, func() { printLoad(c, res) }); err != nil {
				return err
			}
			if n := res.ExactlyOnce.Violations; n > 0 {
				return fmt.Errorf("load: %d of %d drivers do not have exactly one charge, charge request, meter renewal and confirmation", n, res.ExactlyOnce.Drivers)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Drivers, "drivers", 0, fmt.Sprintf("drivers taking part, one journey each (1 to %d)", load.MaxDrivers))
	f.Float64Var(&o.Rate, "rate", 0, "new payments (journeys) started per second")
	f.StringVar(&mix, "mix", load.DefaultMix.String(), "percent of journeys answered by sms, voice and app; sums to 100")
	f.DurationVar(&o.Duration, "duration", time.Minute, "start no journey after this (0: start every driver's)")
	f.DurationVar(&o.Drain, "drain", 2*time.Minute, "then wait this long for journeys in flight")
	f.BoolVar(&o.RespectQuietHours, "respect-quiet-hours", false, "voice drivers get no calls in the server's quiet hours (default: calls at any hour)")
	required(cmd, "drivers", "rate")
	return cmd
}

// printLoad prints a run's result as tables.
func printLoad(c *cli, r *load.Result) {
	c.printf("Run %s: %d drivers, %g payments/s, mix %s, %.1f s from the first payment to the last journey's end\n\n",
		r.Run, r.Drivers, r.Rate, r.Mix, r.ElapsedS)
	c.printf("%-24s %8s %10s %7s %10s\n", "journeys", "started", "completed", "failed", "timed out")
	row := func(name string, n load.Counts) {
		c.printf("%-24s %8d %10d %7d %10d\n", "  "+name, n.Started, n.Completed, n.Failed, n.TimedOut)
	}
	for _, ch := range []string{load.SMS, load.Voice, load.App} {
		if n := r.ByChannel[ch]; n != nil && n.Started > 0 {
			row(ch, *n)
		}
	}
	row("all", r.Journeys)
	c.printf("\nthroughput: %.2f confirmed renewals/s\n\n", r.Throughput)

	c.printf("%-24s %8s %8s %8s %8s %8s\n", "latency (ms)", "samples", "p50", "p90", "p99", "max")
	for _, l := range []struct {
		name string
		l    load.Latency
	}{{"payment -> notice", r.PaymentToNotice}, {"answer -> confirmation", r.AnswerToConfirmation}} {
		c.printf("%-24s %8d %8.1f %8.1f %8.1f %8.1f\n", "  "+l.name, l.l.Count, l.l.P50, l.l.P90, l.l.P99, l.l.Max)
	}

	eo := r.ExactlyOnce
	c.printf("\nexactly once, over %d drivers (each driver's count must be 1):\n", eo.Drivers)
	for _, row := range []struct {
		name string
		n    int
	}{{"charges succeeded (gateway records)", eo.ChargesSucceeded}, {"charge requests received (repeats show)", eo.ChargeRequests},
		{"renewals executed by the meters", eo.RenewalsExecuted}, {"confirmations (texts and pushes)", eo.Confirmations}} {
		c.printf("  %-42s %6d\n", row.name, row.n)
	}
	c.printf("drivers with a count other than 1: %d\n", eo.Violations)
	if len(eo.Offenders) > 0 {
		tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\ndriver\tchannel\tphone\tmeter\toutcome\tcharges\trequests\trenewals\tconfirmations\twhere it stopped")
		for _, d := range eo.Offenders {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", d.Driver, d.Channel, d.Phone, d.Meter, d.Outcome,
				d.ChargesSucceeded, d.ChargeRequests, d.RenewalsExecuted, d.Confirmations, d.Reason)
		}
		_ = tw.Flush()
		if eo.Violations > len(eo.Offenders) {
			c.printf("(the first %d of %d shown; --json has the same)\n", len(eo.Offenders), eo.Violations)
		}
	}
	if len(r.Warnings) > 0 {
		c.printf("\nwarnings:\n  %s\n", strings.Join(r.Warnings, "\n  "))
	}
}
