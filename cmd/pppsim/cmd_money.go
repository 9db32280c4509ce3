package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// Money: the simulated payment gateway's cards and charges, and the
// server's blacklist of phones and cards.

func newCardCmd(c *cli) *cobra.Command {
	return newGroupCmd("card", "show a card at the simulated gateway or set its faults", "money",
		newCardShowCmd(c), newCardSetCmd(c))
}

func newCardShowCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "show TOKEN",
		Short:   "a card at the simulated gateway",
		Example: `  pppsim card show tok_abc`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var cd card
			if err := c.api.simctl(ctx(cmd), "GET", "/cards/"+url.PathEscape(args[0]), nil, &cd); err != nil {
				return err
			}
			return c.print(cd, func() {
				c.printf("card %s  %s ending %s  balance %s  expired %t  blacklisted %t\n", cd.Token, cd.Kind, cd.Last4, money(cd.BalanceMinor), cd.Expired, cd.Blacklisted)
			})
		},
	}
}

func newCardSetCmd(c *cli) *cobra.Command {
	var decline, unavailable, recordsDown, slowMS int
	var expired, blacklisted bool
	var balance int64
	cmd := &cobra.Command{
		Use:   "set TOKEN [flags]",
		Short: "set a card's balance and faults at the simulated gateway (see pppsim fault list)",
		Long: `Set a card at the simulated gateway: its balance, whether it is expired or
blacklisted, and faults of its next charges. --expired and --blacklisted are
set to what is given (absent: false).`,
		Example: `  pppsim card set tok_abc --decline-next 1
  pppsim card set tok_abc --unavailable-next 2
  pppsim card set tok_abc --slow-next-ms 7000 --records-unavailable-next 40
  pppsim card set tok_abc --balance 5.00 --expired`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			patch := map[string]any{"expired": expired, "blacklisted": blacklisted}
			for _, n := range []struct {
				flag, key string
				v         int
			}{
				{"decline-next", "decline_next", decline},
				{"unavailable-next", "unavailable_next", unavailable},
				{"records-unavailable-next", "records_unavailable_next", recordsDown},
				{"slow-next-ms", "slow_next", slowMS},
			} {
				if !cmd.Flags().Changed(n.flag) {
					continue
				}
				if n.v < 0 {
					return fmt.Errorf("--%s %d: must not be negative: %w", n.flag, n.v, errUsage)
				}
				patch[n.key] = n.v
			}
			if ms, ok := patch["slow_next"]; ok {
				patch["slow_next"] = map[string]int{"count": 1, "delay_ms": ms.(int)}
			}
			if cmd.Flags().Changed("balance") {
				patch["balance_minor"] = balance
			}
			var cd card
			if err := c.api.simctl(ctx(cmd), "PATCH", "/cards/"+url.PathEscape(args[0]), patch, &cd); err != nil {
				return err
			}
			return c.print(cd, func() { c.printf("card %s updated\n", cd.Token) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&decline, "decline-next", 0, "decline the next N charges")
	f.IntVar(&unavailable, "unavailable-next", 0, "answer the next N charges 503 (not taken)")
	f.IntVar(&recordsDown, "records-unavailable-next", 0, "answer the next N reads of a recorded charge 503: taken, but the gateway cannot say so")
	f.IntVar(&slowMS, "slow-next-ms", 0, "take the next charge but answer it after MS milliseconds")
	f.BoolVar(&expired, "expired", false, "the card is expired")
	f.BoolVar(&blacklisted, "blacklisted", false, "the card is blacklisted at the gateway")
	amountFlag(f, &balance, "balance", 0, "set the card's balance")
	return cmd
}

func newChargesCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "charges",
		Short:   "every charge the gateway saw",
		GroupID: "money",
		Example: `  pppsim charges --json`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return charges(ctx(cmd), c) },
	}
}

func charges(ctx context.Context, c *cli) error {
	var chs []charge
	if err := c.api.simctl(ctx, "GET", "/charges", nil, &chs); err != nil {
		return err
	}
	return c.print(chs, func() {
		if len(chs) == 0 {
			c.printf("(no charges)\n")
		}
		for _, ch := range chs {
			c.printf("%s  %s %s  %-10s %s  key %s\n", clock(ch.CreatedAt), ch.Currency, money(ch.AmountMinor), ch.Status, ch.Code, ch.IdempotencyKey)
		}
	})
}

// blacklistKinds are what the server's blacklist holds.
var blacklistKinds = []string{"phone", "card"}

func newBlacklistCmd(c *cli) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "blacklist phone|card VALUE --reason R",
		Short:   "blacklist a phone or a card at the server",
		GroupID: "money",
		Example: `  pppsim blacklist phone +85291234567 --reason "chargeback"
  pppsim blacklist card tok_abc --reason "reported stolen"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := exactArgs(2)(cmd, args); err != nil {
				return err
			}
			if _, ok := oneOf(args[0], blacklistKinds); !ok {
				return fmt.Errorf("blacklist %q: the kind must be one of phone, card", args[0])
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return blacklistKinds, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, _ := oneOf(args[0], blacklistKinds)
			if err := c.api.admin(ctx(cmd), "POST", "/blacklist", map[string]any{"kind": kind, "value": args[1], "reason": reason}, nil); err != nil {
				return err
			}
			c.printf("%s %s blacklisted: %s\n", kind, args[1], reason)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the audit history)")
	required(cmd, "reason")
	return cmd
}
