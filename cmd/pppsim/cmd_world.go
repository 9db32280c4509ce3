package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// The simulated world as a whole: the walkthrough and its faults. Commands
// that set up, reset or load the world (`run`, `world`, `up`, `reset`,
// `load`) belong here too.

func newDemoCmd(c *cli) *cobra.Command {
	var phone, meterID, bay, lang string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "run a whole option-1 renewal and print every step",
		Long: `Run the README walkthrough in one go: register a driver and a meter, tap the
card, answer the expiry SMS with 1, confirm the quote, and show the charge,
the meter's new paid-until and the conversation's history.`,
		Example: `  pppsim demo
  pppsim demo --lang zh-HK --meter MTR-2 --bay 3`,
		GroupID: "world",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if phone == "" {
				phone = fmt.Sprintf("+852912%05d", time.Now().UnixNano()/1e6%100000)
			}
			return demo(ctx(cmd), c, phone, meterID, bay, lang, timeout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&phone, "phone", "", "the driver's phone (default: a new number each run)")
	f.StringVar(&meterID, "meter", "MTR-DEMO", "the meter")
	f.StringVar(&bay, "bay", "12", "the bay")
	enumFlag(cmd, &lang, "lang", "en", "the driver's language", languages...)
	f.DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait for each SMS")
	return cmd
}

// demo runs the README walkthrough in one go.
func demo(ctx context.Context, c *cli, phone, meterID, bay, lang string, timeout time.Duration) error {
	step := func(format string, a ...any) { c.printf("\n== "+format+"\n", a...) }
	var conflict *apiError

	step("register driver %s (%s) with a credit card", phone, lang)
	if err := userAdd(ctx, c, userAddOpts{phone: phone, lang: lang, card: "credit", last4: "4242", balance: 10000}); err != nil {
		return err
	}
	step("register meter %s (bays 1-20)", meterID)
	if err := meterAdd(ctx, c, meterAddOpts{id: meterID, location: "Queen's Road Central", bays: "1-20"}); errors.As(err, &conflict) && conflict.Status == 409 {
		c.printf("meter %s already registered\n", meterID)
	} else if err != nil {
		return err
	}
	step("tap the card at bay %s for 10 minutes (the expiry notice is due at once: lead time 10m)", bay)
	if err := tap(ctx, c, tapOpts{meter: meterID, bay: bay, phone: phone, minutes: 10, amount: 1000}); err != nil {
		return err
	}
	seen := ""
	wait := func(what string, match func(string) bool) (phoneMessage, error) {
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			msgs, err := c.inbox(ctx, phone, seen)
			if err != nil {
				return phoneMessage{}, err
			}
			for _, m := range msgs {
				seen = m.Sid
				c.printMessage(m)
				if match(m.Body) {
					return m, nil
				}
			}
			select {
			case <-ctx.Done():
				return phoneMessage{}, ctx.Err()
			case <-time.After(300 * time.Millisecond):
			}
		}
		return phoneMessage{}, fmt.Errorf("no %s within %s", what, timeout)
	}
	step("wait for the expiry SMS")
	if _, err := wait("expiry notice", func(b string) bool { return strings.Contains(b, "1") }); err != nil {
		return err
	}
	step("reply 1 (extend now)")
	if err := smsSend(ctx, c, phone, "", false, "1"); err != nil {
		return err
	}
	if _, err := wait("quote", func(b string) bool { return strings.Contains(b, "4242") }); err != nil {
		return err
	}
	step("reply 1 (confirm the quote)")
	if err := smsSend(ctx, c, phone, "", false, "1"); err != nil {
		return err
	}
	if _, err := wait("confirmation", func(b string) bool { return strings.Contains(b, "charged") || strings.Contains(b, "已") }); err != nil {
		return err
	}
	step("the payment gateway's charges")
	if err := charges(ctx, c); err != nil {
		return err
	}
	step("the meter's bays")
	if err := meterShow(ctx, c, meterID); err != nil {
		return err
	}
	step("the conversation's history")
	return history(ctx, c, phone, "")
}

func newFaultCmd(c *cli) *cobra.Command {
	var count, delay, status int
	cmd := &cobra.Command{
		Use:   "fault KIND [--count N] [--delay-ms MS] [--status S] | fault clear | fault list",
		Short: "arm a carrier or push fault for the next requests; list every fault",
		Long: `Arm a fault of the simulated carrier or push services for the next N requests
(--count, default 1), or clear them all (fault clear). The carrier kinds
take --delay-ms where they hold or queue; the push kinds need --status, the
HTTP status the fake service answers (400-599).

pppsim fault list describes every fault the world has, including those of
cards (pppsim card set), meters (pppsim meter fault) and phones (pppsim phone
set), with the flags that apply.`,
		Example: `  pppsim fault list
  pppsim fault messages_5xx --count 3
  pppsim fault messages_timeout --delay-ms 20000
  pppsim fault push_fcm --status 503 --count 2
  pppsim fault clear`,
		GroupID: "world",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := exactArgs(1)(cmd, args); err != nil {
				return err
			}
			return checkFaultArgs(cmd, args[0], count, status)
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return append(faultNames(), "clear"), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "clear" {
				return clearFaults(ctx(cmd), c)
			}
			k, _ := lookupFault(args[0])
			var armed any
			if k.Area == "push" {
				body := map[string]any{"provider": k.provider, "status": status, "count": count}
				if err := c.api.simctl(ctx(cmd), "POST", "/push/faults", body, &armed); err != nil {
					return err
				}
				return c.print(armed, func() {
					c.printf("push fault %s armed: HTTP %d for the next %d request(s)\n", k.Name, status, count)
				})
			}
			body := map[string]any{"kind": k.Name, "count": count}
			if delay > 0 {
				body["delay_ms"] = delay
			}
			if err := c.api.simctl(ctx(cmd), "POST", "/faults", body, &armed); err != nil {
				return err
			}
			return c.print(armed, func() { c.printf("fault %s armed for the next %d request(s)\n", k.Name, count) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&count, "count", 1, "how many requests the fault hits")
	f.IntVar(&delay, "delay-ms", 0, "milliseconds held or queued (messages_timeout, queue_delay)")
	f.IntVar(&status, "status", 0, "HTTP status the fake push service answers, 400-599 (push_fcm, push_apns)")
	cmd.AddCommand(newFaultListCmd(c))
	return cmd
}

// checkFaultArgs refuses, before any request, a kind `fault` does not arm
// and a flag that does not apply to the kind.
func checkFaultArgs(cmd *cobra.Command, name string, count, status int) error {
	var set []string
	for _, n := range []string{"count", "delay-ms", "status"} {
		if cmd.Flags().Changed(n) {
			set = append(set, "--"+n)
		}
	}
	if name == "clear" {
		if len(set) > 0 {
			return fmt.Errorf("fault clear takes no flags (got %s)", strings.Join(set, " "))
		}
		return nil
	}
	k, ok := lookupFault(name)
	switch {
	case !ok:
		return fmt.Errorf("unknown fault kind %q: accepted kinds are %s, or clear (pppsim fault list describes them)", name, strings.Join(faultNames(), ", "))
	case !k.armedByFault():
		return fmt.Errorf("%s is a %s fault, not armed by pppsim fault: %s", name, k.Area, k.Usage)
	}
	for _, f := range set {
		if !slices.Contains(k.Flags, f) {
			return fmt.Errorf("%s does not apply to fault %s (it takes %s)", f, name, strings.Join(k.Flags, ", "))
		}
	}
	if count < 1 {
		return fmt.Errorf("--count %d: must be at least 1", count)
	}
	if k.Area == "push" && (status < 400 || status > 599) {
		return fmt.Errorf("fault %s needs --status, an HTTP status from 400 to 599 (got %d)", name, status)
	}
	return nil
}

func clearFaults(ctx context.Context, c *cli) error {
	if err := c.api.simctl(ctx, "DELETE", "/faults", nil, nil); err != nil {
		return err
	}
	if err := c.api.simctl(ctx, "DELETE", "/push/faults", nil, nil); err != nil {
		return fmt.Errorf("carrier faults cleared, push faults not: %w", err)
	}
	c.printf("carrier and push faults cleared\n")
	return nil
}

func newFaultListCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "every fault the simulated world has: what it does and how to arm it",
		Example: `  pppsim fault list
  pppsim fault list --json`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			return c.print(faultKinds, func() {
				for _, k := range faultKinds {
					c.printf("%-25s %-8s %s; use: %s\n", k.Name, k.Area, k.Does, k.Usage)
				}
			})
		},
	}
}
