package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"ppprenew/sim/scenario"
)

func newRunCmd(c *cli) *cobra.Command {
	var junit string
	var parallel int
	cmd := &cobra.Command{
		Use:   "run FILE|DIR...",
		Short: "run scenario files against the running server and world, with expectations",
		Long: `Run scenarios (YAML, see docs/scenarios.md): each sets up its meters, drivers,
cards and handsets, then taps, texts, calls, presses app buttons and arms
faults, and checks the texts, calls, pushes, charges, meters, phases and alerts
that follow. Files are checked before anything runs: an unknown step or field,
a bad regular expression, duration or phone number is refused with its
file:line:col (exit 2). Phone numbers, meter ids and cards are drawn afresh for
every run, so scenarios run in parallel against one server and run again
without a reset. A scenario whose settings the server does not meet is refused
with the reason.

One line per step; under a failed step, what was expected and what arrived
instead. Exit 0 when every scenario passed, 1 when one failed or was refused
or the server or world could not be reached, 2 when a file was refused.`,
		Example: `  pppsim run testdata/scenarios
  pppsim run testdata/scenarios/renew_by_sms.yaml --junit report.xml
  pppsim --json run testdata/scenarios --parallel 8`,
		GroupID: "world",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("%s: name at least one scenario file or directory (usage: %s): %w", cmd.CommandPath(), cmd.UseLine(), errUsage)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if parallel < 1 {
				return fmt.Errorf("--parallel must be at least 1, not %d: %w", parallel, errUsage)
			}
			scs, err := scenario.Load(args...)
			if err != nil {
				return &usageError{err: fmt.Errorf("scenarios refused, nothing was run:\n%v", err), path: cmd.CommandPath()}
			}
			sim := c.sim
			if !cmd.Flags().Changed("sim") && os.Getenv("PPP_SIM_URL") == "" {
				sim = "" // the world the server itself plays against
			}
			r := &scenario.Runner{Server: c.server, Sim: sim, AdminToken: c.adminToken, Parallel: parallel, Out: c.out}
			if c.json {
				r.Out = io.Discard
			}
			rep := r.Run(ctx(cmd), scs)
			if junit != "" {
				if err := writeJUnit(junit, rep); err != nil {
					return err
				}
			}
			if c.json {
				if err := rep.WriteJSON(c.out); err != nil {
					return err
				}
			} else {
				c.printf("%s\n", rep.Summary())
			}
			switch {
			case rep.Err != nil:
				return rep.Err
			case !rep.Passed():
				return errors.New("not every scenario passed: " + rep.Summary())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&junit, "junit", "", "also write a JUnit XML report to `FILE`")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "how many scenarios run at once (those arming world-wide faults run alone)")
	return cmd
}

func writeJUnit(path string, rep *scenario.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	if err := rep.WriteJUnit(f); err != nil {
		f.Close()
		return fmt.Errorf("--junit %s: %w", path, err)
	}
	return f.Close()
}
