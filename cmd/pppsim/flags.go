package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// enumValue is a string flag that accepts only some values (in any case;
// the value kept is the listed spelling).
type enumValue struct {
	p       *string
	allowed []string
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return strings.Join(e.allowed, "|") }

func (e *enumValue) Set(s string) error {
	if v, ok := oneOf(s, e.allowed); ok {
		*e.p = v
		return nil
	}
	return fmt.Errorf("must be one of %s", strings.Join(e.allowed, ", "))
}

// oneOf finds s among allowed, ignoring case.
func oneOf(s string, allowed []string) (string, bool) {
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(s), a) {
			return a, true
		}
	}
	return "", false
}

// enumFlag defines a flag that takes one of allowed, checked when the
// command line is parsed, and completes to them.
func enumFlag(cmd *cobra.Command, p *string, name, def, usage string, allowed ...string) {
	*p = def
	cmd.Flags().Var(&enumValue{p: p, allowed: allowed}, name, usage)
	_ = cmd.RegisterFlagCompletionFunc(name, fixed(allowed...))
}

// fixed completes to a fixed list of values.
func fixed(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// amountValue is a money flag like 12.50, kept in minor units and checked
// when the command line is parsed.
type amountValue struct{ p *int64 }

func (a amountValue) String() string { return money(*a.p) }
func (a amountValue) Type() string   { return "amount" }

func (a amountValue) Set(s string) error {
	v, err := parseAmount(s)
	if err != nil {
		return err
	}
	*a.p = v
	return nil
}

// amountFlag defines a money flag with a default in minor units.
func amountFlag(fs *pflag.FlagSet, p *int64, name string, def int64, usage string) {
	*p = def
	fs.Var(amountValue{p}, name, usage)
}

// required marks flags of cmd as required (checked before anything runs).
func required(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err) // a flag name that is not defined: a bug in pppsim
		}
		f := cmd.Flags().Lookup(n)
		f.Usage += " (required)"
	}
}

// checkRequired refuses a command line missing a required flag.
func checkRequired(cmd *cobra.Command) error {
	var missing []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if v, ok := f.Annotations[cobra.BashCompOneRequiredFlag]; ok && len(v) > 0 && v[0] == "true" && !f.Changed {
			missing = append(missing, "--"+f.Name)
		}
	})
	if len(missing) > 0 {
		return fmt.Errorf("%s: %s is required", cmd.CommandPath(), strings.Join(missing, " and "))
	}
	return nil
}

// noArgs refuses any positional argument.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s: unexpected argument %q (usage: %s)", cmd.CommandPath(), args[0], cmd.UseLine())
	}
	return nil
}

// exactArgs wants n positional arguments.
func exactArgs(n int) cobra.PositionalArgs {
	return rangeArgs(n, n)
}

// rangeArgs wants between lo and hi positional arguments.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) > hi:
			return fmt.Errorf("unexpected argument %q (usage: %s)", args[hi], cmd.UseLine())
		case len(args) < lo:
			return fmt.Errorf("missing argument (usage: %s)", cmd.UseLine())
		}
		return nil
	}
}

// minArgs wants at least n positional arguments.
func minArgs(n int) cobra.PositionalArgs { return rangeArgs(n, int(^uint(0)>>1)) }

// newGroupCmd is a command that only holds subcommands (`meter`, `card`...):
// alone it prints its help, with an unknown subcommand it is a usage error.
func newGroupCmd(use, short, group string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, GroupID: group, Args: groupArgs, RunE: groupRun}
	cmd.AddCommand(subs...)
	return cmd
}

func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return fmt.Errorf("%s", msg)
}

func groupRun(cmd *cobra.Command, _ []string) error { return cmd.Help() }
