// Command pppsim is the tester's tool: it drives the simulated carrier,
// phones, meters, payment gateway and push services of a running PPP Renew
// (`make run`) and reads the server's admin API. Run `pppsim help` for the
// commands and `pppsim help COMMAND` for one of them.
//
// The command tree is built with cobra in root.go; each group of commands
// lives in its own cmd_<group>.go file (see root.go for how to add one).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// env reads a setting with a default.
func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pppsim:", err)
		os.Exit(exitCode(err))
	}
}

// Exit codes.
const (
	exitOK      = 0 // the command did what was asked
	exitFailure = 1 // the server or the simulated world failed or refused
	exitUsage   = 2 // a command line pppsim does not understand
)

// exitCode is 2 for a command line pppsim does not understand, 1 for any
// other failure.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	}
	return exitFailure
}

// errUsage marks a command line pppsim does not understand; main exits 2.
var errUsage = errors.New("wrong arguments (see pppsim help)")

// usageError is a command line refused before any request was sent: a flag
// or argument cobra or pppsim's checks did not accept. It says where to
// read the command's help.
type usageError struct {
	err  error
	path string // "pppsim meter add"
}

func (e *usageError) Error() string {
	return fmt.Sprintf("%v\nRun '%s --help' for usage.", e.err, e.path)
}

func (e *usageError) Unwrap() []error { return []error{e.err, errUsage} }

// run parses args, runs one command and writes its output to out. Errors
// are returned, not printed; exitCode tells which exit code they mean.
func run(ctx context.Context, args []string, out io.Writer) error {
	c := &cli{out: out}
	root := newRootCmd(c)
	root.SetArgs(singleDashLongFlags(root, args))
	root.SetOut(out)
	root.SetErr(out)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	if c.ran && !errors.Is(err, errUsage) {
		// The command ran: its error is the server's or the world's.
		return err
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return err
	}
	path := root.Name()
	if cmd != nil {
		path = cmd.CommandPath()
	}
	return &usageError{err: err, path: path}
}

// singleDashLongFlags rewrites -name and -name=value to --name... for the
// long flags pppsim knows, as package flag accepted them before (the old
// command lines, like `meter list -json`, keep working). Arguments after
// "--" are left alone.
func singleDashLongFlags(root *cobra.Command, args []string) []string {
	long := map[string]bool{"help": true}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		add := func(f *pflag.Flag) { long[f.Name] = true }
		cmd.Flags().VisitAll(add)
		cmd.PersistentFlags().VisitAll(add)
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) > 2 {
			name, _, _ := strings.Cut(a[1:], "=")
			if long[name] {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}
