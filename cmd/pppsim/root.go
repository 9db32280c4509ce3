package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// cli carries what every command needs: the clients, the output and the
// global flags.
type cli struct {
	api  *api
	json bool
	out  io.Writer

	server, sim, adminToken, tz string

	// ran is set when a command's own code starts: an error before it is
	// a usage error (exit 2), after it the server's or the world's (exit 1)
	// unless it wraps errUsage.
	ran bool
}

// Command groups, in the order the root help lists them.
var groups = []*cobra.Group{
	{ID: "world", Title: "The simulated world:"},
	{ID: "drivers", Title: "Drivers:"},
	{ID: "meters", Title: "Meters and bays:"},
	{ID: "phones", Title: "Phones (SMS and voice):"},
	{ID: "app", Title: "The driver's app (push notifications):"},
	{ID: "money", Title: "Cards, charges and the payment gateway:"},
	{ID: "server", Title: "The server (admin API):"},
}

// commandConstructors is the one place commands join the tree.
//
// To add a command (e.g. `run FILE|DIR`, `world`, `up`, `reset`, `load`):
//  1. write newRunCmd(c *cli) *cobra.Command in the file of its group
//     (cmd_world.go, or a new cmd_<group>.go), with Use, Short, Example,
//     GroupID set to one of groups above, Args (noArgs, exactArgs, ...),
//     its flags (enumFlag for enumerations, MarkFlagRequired for required
//     ones) and RunE doing the work through c.api and c.print;
//  2. add newRunCmd to this list.
//
// Every RunE is wrapped by newRootCmd: the global flags are applied before
// it runs, and flags and arguments are checked before any request is sent.
// A RunE error wrapping errUsage exits 2, any other error exits 1.
var commandConstructors = []func(*cli) *cobra.Command{
	// world
	newUpCmd, newWorldCmd, newRunCmd, newLoadCmd, newResetCmd, newDemoCmd, newFaultCmd,
	// drivers
	newUserCmd,
	// meters
	newMeterCmd, newTapCmd,
	// phones
	newPhoneCmd, newSMSCmd, newCallCmd, newCallsCmd,
	// app
	newAppCmd,
	// money
	newCardCmd, newChargesCmd, newBlacklistCmd,
	// server
	newHistoryCmd, newConversationsCmd, newAlertsCmd,
}

const rootLong = `pppsim drives the PPP Renew simulator (start the service with: make run):
the carrier and its phones, the parking meters, the payment gateway and the
push services, over the simulator's control API (/sim/v1), and reads the
server's admin API (/admin/v1).

Global flags work before or after the command; each has an environment
default: --server (PPP_SERVER_URL), --sim (PPP_SIM_URL), --admin-token
(PPP_ADMIN_TOKEN), --tz (PPP_TZ). --json prints JSON instead of text.

Exit codes: 0 done, 1 the server or the simulated world failed or refused,
2 the command line was wrong (nothing was sent).`

// newRootCmd builds the whole command tree for one run.
func newRootCmd(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "pppsim",
		Short: "drive the PPP Renew simulator and read the server's admin API",
		Long:  rootLong,
		Example: `  pppsim demo
  pppsim user add --phone +85291234567 --lang zh-HK
  pppsim --json meter list
  pppsim fault list`,
		Args:             groupArgs,
		RunE:             groupRun,
		SilenceErrors:    true,
		SilenceUsage:     true,
		TraverseChildren: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.server, "server", env("PPP_SERVER_URL", "http://127.0.0.1:8080"), "server base URL; env PPP_SERVER_URL")
	pf.StringVar(&c.sim, "sim", env("PPP_SIM_URL", "http://127.0.0.1:8081"), "simulator base URL; env PPP_SIM_URL")
	pf.StringVar(&c.adminToken, "admin-token", env("PPP_ADMIN_TOKEN", "dev-admin-token"), "admin API token; env PPP_ADMIN_TOKEN")
	pf.BoolVar(&c.json, "json", false, "print JSON instead of text")
	pf.StringVar(&c.tz, "tz", env("PPP_TZ", "Asia/Hong_Kong"), "time zone of printed times; env PPP_TZ")
	_ = root.RegisterFlagCompletionFunc("tz", fixed("UTC", "Asia/Hong_Kong", "Local"))

	root.AddGroup(groups...)
	for _, newCmd := range commandConstructors {
		root.AddCommand(newCmd(c))
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	wrapRunE(c, root)
	return root
}

// wrapRunE makes every command of the tree check its required flags before
// anything else runs and apply the global flags before its own code.
func wrapRunE(c *cli, cmd *cobra.Command) {
	if cmd.RunE != nil {
		args := cmd.Args
		cmd.Args = func(cmd *cobra.Command, pos []string) error {
			if args != nil {
				if err := args(cmd, pos); err != nil {
					return err
				}
			}
			return checkRequired(cmd)
		}
		runE := cmd.RunE
		cmd.RunE = func(cmd *cobra.Command, pos []string) error {
			if err := c.setup(); err != nil {
				return err
			}
			c.ran = true
			return runE(cmd, pos)
		}
	}
	for _, sub := range cmd.Commands() {
		wrapRunE(c, sub)
	}
}

// setup applies the global flags.
func (c *cli) setup() error {
	loc, err := time.LoadLocation(c.tz)
	if err != nil {
		return fmt.Errorf("--tz %q: %v: %w", c.tz, err, errUsage)
	}
	displayLoc = loc
	c.api = newAPI(c.server, c.sim, c.adminToken)
	return nil
}

// ctx is the context of a running command.
func ctx(cmd *cobra.Command) context.Context {
	if x := cmd.Context(); x != nil {
		return x
	}
	return context.Background()
}
