package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// Drivers: the people who park, registered with the server and given a
// card at the simulated gateway.

var (
	languages    = []string{"en", "zh-HK", "zh-CN"}
	cardKinds    = []string{"credit", "prepaid", "debit"}
	channels     = []string{"sms", "voice"}
	appPlatforms = []string{"fcm", "apns"}
)

func newUserCmd(c *cli) *cobra.Command {
	return newGroupCmd("user", "register drivers and show them", "drivers",
		newUserAddCmd(c), newUserShowCmd(c))
}

type userAddOpts struct {
	phone, lang, card, last4, channel, pin string
	balance                                int64
}

func newUserAddCmd(c *cli) *cobra.Command {
	var o userAddOpts
	cmd := &cobra.Command{
		Use:   "add --phone P",
		Short: "register a driver with a new card at the simulated gateway",
		Long: `Register a driver with the server: a card is created at the simulated gateway
(--card kind, --last4, --balance) and given to the driver. Voice drivers
(--channel voice) are called; the PIN guards voice confirmation.`,
		Example: `  pppsim user add --phone +85291234567
  pppsim user add --phone +85291234568 --lang zh-HK --card prepaid --balance 20.00
  pppsim user add --phone +85291234569 --channel voice --pin 2468`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return userAdd(ctx(cmd), c, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.phone, "phone", "", "the driver's phone number (E.164)")
	enumFlag(cmd, &o.lang, "lang", "en", "the driver's language", languages...)
	enumFlag(cmd, &o.card, "card", "credit", "kind of the new card", cardKinds...)
	f.StringVar(&o.last4, "last4", "4242", "last four digits of the new card")
	amountFlag(f, &o.balance, "balance", 10000, "balance of the new card")
	enumFlag(cmd, &o.channel, "channel", "", "channel tried first (default: the operator's channel order)", channels...)
	f.StringVar(&o.pin, "pin", "", "PIN that confirms a renewal by voice")
	required(cmd, "phone")
	return cmd
}

func userAdd(ctx context.Context, c *cli, o userAddOpts) error {
	var cd card
	if err := c.api.simctl(ctx, "POST", "/cards", map[string]any{"kind": o.card, "last4": o.last4, "balance_minor": o.balance}, &cd); err != nil {
		return fmt.Errorf("create card at the simulated gateway: %w", err)
	}
	var u user
	if err := c.api.admin(ctx, "POST", "/users", map[string]any{"phone": o.phone, "language": o.lang, "card_token": cd.Token, "card_last4": cd.Last4, "card_kind": cd.Kind, "channel": o.channel, "pin": o.pin}, &u); err != nil {
		return fmt.Errorf("register user: %w", err)
	}
	return c.print(map[string]any{"user": u, "card": cd}, func() {
		reached := "the operator's channel order"
		if o.channel != "" {
			reached = o.channel + " first"
		}
		c.printf("registered user %s  phone %s  language %s  reached by %s\n", u.ID, u.Phone, u.Language, reached)
		c.printf("  card %s ending %s (token %s, balance %s)\n", cd.Kind, cd.Last4, cd.Token, money(cd.BalanceMinor))
	})
}

func newUserShowCmd(c *cli) *cobra.Command {
	var phone string
	cmd := &cobra.Command{
		Use:     "show --phone P",
		Short:   "show a registered driver and their card",
		Example: `  pppsim user show --phone +85291234567`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := c.userByPhone(ctx(cmd), phone)
			if err != nil {
				return err
			}
			return c.print(u, func() {
				c.printf("user %s  phone %s  language %s  card %s ending %s\n", u.ID, u.Phone, u.Language, u.CardKind, u.CardLast4)
			})
		},
	}
	cmd.Flags().StringVar(&phone, "phone", "", "the driver's phone number")
	required(cmd, "phone")
	return cmd
}
