// Command pppsim is the tester's tool: it drives the simulated carrier,
// phones, meters and payment gateway of a running PPP Renew (`make run`) and
// reads the server's admin API. Run `pppsim help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

// env reads a setting with a default.
func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

const usage = `pppsim drives the PPP Renew simulator (start the service with: make run).

Usage: pppsim [global flags] <command> [flags] [args]

Global flags (or environment):
  --server URL       server base URL (PPP_SERVER_URL, default http://127.0.0.1:8080)
  --sim URL          simulator base URL (PPP_SIM_URL, default http://127.0.0.1:8081)
  --admin-token T    admin API token (PPP_ADMIN_TOKEN, default dev-admin-token)
  --json             print JSON instead of text (also after the command)
  --tz ZONE          time zone of printed times (PPP_TZ, default Asia/Hong_Kong, as the shipped settings)

Commands:
  demo                         run a whole option-1 renewal and print every step
  user add --phone P [--lang en|zh-HK|zh-CN] [--card credit|prepaid|debit] [--last4 4242] [--balance 100.00]
  user show --phone P
  meter add --id M [--sim-number +852...] [--zone Z] [--location L] [--bays 1-20] [--online]
                               meters sleep unless --online; the platform wakes them with a call
                               to the SIM (default: a number derived from the id, one per meter)
  meter status M               the platform's view: last seen, battery, commands, wake attempts, events
  meter cancel|retry M COMMAND    cancel or retry a meter command (operator)
  meter fault M --power-loss before_journal|after_journal|after_execute|after_ack | --radio-unreachable | --clear
  meter show M                 bays, paid-until, commands and the meter's event log
  meter list
  tap --meter M --bay B (--phone P | --card TOKEN) [--minutes 30 | --for 90s] [--amount 10.00]
  user add ... [--channel sms|voice] [--pin 2468]   voice drivers are called; the PIN guards voice confirmation
  phone voice P --answer human|voicemail|busy|no-answer|failed [--rings 2] [--press 1,1]
                               how the phone answers the platform's calls: keys pressed at each menu
                               (- stays silent, hangup hangs up, 1x2 presses 1 and the webhook arrives twice)
  call --from P [--press 1,1] [--withheld]      call the platform from a phone and print the call
  calls P                      the calls of a phone with what was said and pressed
  app add --phone P [--platform fcm|apns]       give a driver the simulated app (notifications first)
  app press APP --press 1|2|3|yes|no|renew [--after 500ms]   press a notification button when one arrives
  app show APP                 notifications received and buttons pressed
  sms send --from P [--to N] [--twice] TEXT     a text from a phone to the platform
  sms inbox P [--wait 30s] [--follow]           what a phone received
  phone set P --behaviour ok|unreachable|landline|filtered
  card show TOKEN | card set TOKEN [--decline-next N] [--unavailable-next N]
                [--slow-next-ms MS] [--records-unavailable-next N] [--expired] [--blacklisted] [--balance X]
  charges                      every charge the gateway saw
  history (--phone P | --conv ID)               a conversation and its audit history
  conversations                recent conversations
  blacklist phone|card VALUE --reason R
  alerts                       operator alerts
  fault KIND [--count N] [--delay-ms D]         carrier faults: messages_5xx, messages_429, messages_timeout, ...
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pppsim:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a command line pppsim does not understand, 1 for any
// other failure.
func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// cli carries what every command needs.
type cli struct {
	api  *api
	json bool
	out  io.Writer
}

func run(ctx context.Context, args []string, out io.Writer) error {
	g := flag.NewFlagSet("pppsim", flag.ContinueOnError)
	g.SetOutput(io.Discard)
	server := g.String("server", env("PPP_SERVER_URL", "http://127.0.0.1:8080"), "")
	simURL := g.String("sim", env("PPP_SIM_URL", "http://127.0.0.1:8081"), "")
	token := g.String("admin-token", env("PPP_ADMIN_TOKEN", "dev-admin-token"), "")
	asJSON := g.Bool("json", false, "")
	tz := g.String("tz", env("PPP_TZ", "Asia/Hong_Kong"), "")
	if err := g.Parse(args); err != nil {
		return fmt.Errorf("%v: %w\n\n%s", err, errUsage, usage)
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return fmt.Errorf("--tz %q: %v", *tz, err)
	}
	displayLoc = loc
	c := &cli{api: newAPI(*server, *simURL, *token), json: *asJSON, out: out}
	rest := g.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		fmt.Fprint(out, usage)
		return nil
	}
	cmd, rest := rest[0], rest[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		if f, ok := commands[cmd+" "+rest[0]]; ok {
			return f(ctx, c, rest[1:])
		}
	}
	if f, ok := commands[cmd]; ok {
		return f(ctx, c, rest)
	}
	return fmt.Errorf("unknown command %q: %w\n\n%s", strings.Join(append([]string{cmd}, rest...), " "), errUsage, usage)
}

type command func(ctx context.Context, c *cli, args []string) error

var commands map[string]command

func init() {
	// A table, not registration: every command is listed here.
	commands = map[string]command{
		"demo": cmdDemo, "user add": cmdUserAdd, "user show": cmdUserShow,
		"meter add": cmdMeterAdd, "meter show": cmdMeterShow, "meter list": cmdMeterList, "meter status": cmdMeterStatus, "meter fault": cmdMeterFault,
		"meter cancel": cmdMeterCommand("cancel"), "meter retry": cmdMeterCommand("retry"), "tap": cmdTap,
		"sms send": cmdSMSSend, "sms inbox": cmdSMSInbox, "phone set": cmdPhoneSet,
		"card show": cmdCardShow, "card set": cmdCardSet, "charges": cmdCharges,
		"history": cmdHistory, "conversations": cmdConversations, "blacklist": cmdBlacklist,
		"alerts": cmdAlerts, "fault": cmdFault,
		"phone voice": cmdPhoneVoice, "call": cmdCall, "calls": cmdCalls,
		"app add": cmdAppAdd, "app press": cmdAppPress, "app show": cmdAppShow,
	}
}

// flags parses a command's flags, allowing positional arguments and the
// global --json anywhere, and returns the positional arguments. A nil define
// defines no flags of the command's own. An unknown flag is a usage error.
func (c *cli) flags(name string, args []string, define func(*flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if define != nil {
		define(fs)
	}
	fs.BoolVar(&c.json, "json", c.json, "")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%s: %v: %w", name, err, errUsage)
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// flagsOnly is flags for a command that takes no positional arguments.
func (c *cli) flagsOnly(name string, args []string, define func(*flag.FlagSet)) error {
	pos, err := c.flags(name, args, define)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%s: unexpected argument %q: %w", name, pos[0], errUsage)
	}
	return nil
}

// errUsage marks a command line pppsim does not understand; main exits 2.
var errUsage = errors.New("wrong arguments (see pppsim help)")
