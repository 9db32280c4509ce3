package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// The server: what its admin API says about conversations and alerts.

func newHistoryCmd(c *cli) *cobra.Command {
	var phone, conv string
	cmd := &cobra.Command{
		Use:     "history (--phone P | --conv ID)",
		Short:   "a conversation and its audit history",
		GroupID: "server",
		Example: `  pppsim history --phone +85291234567
  pppsim history --conv conv_0123 --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return history(ctx(cmd), c, phone, conv) },
	}
	cmd.Flags().StringVar(&phone, "phone", "", "the latest conversation with this phone")
	cmd.Flags().StringVar(&conv, "conv", "", "the conversation with this id")
	cmd.MarkFlagsOneRequired("phone", "conv")
	cmd.MarkFlagsMutuallyExclusive("phone", "conv")
	return cmd
}

func history(ctx context.Context, c *cli, phone, conv string) error {
	if conv == "" {
		var list struct {
			Conversations []convState `json:"conversations"`
		}
		if err := c.api.admin(ctx, "GET", "/conversations?phone="+url.QueryEscape(phone), nil, &list); err != nil {
			return err
		}
		if len(list.Conversations) == 0 {
			return fmt.Errorf("no conversations for %s", phone)
		}
		conv = list.Conversations[0].ID
	}
	var cv conversation
	if err := c.api.admin(ctx, "GET", "/conversations/"+url.PathEscape(conv), nil, &cv); err != nil {
		return err
	}
	return c.print(cv, func() {
		s := cv.State
		c.printf("conversation %s  %s (v%d)  meter %s bay %s  paid until %s\n", s.ID, s.Phase, s.Version, s.MeterID, s.Bay, clock(s.PaidUntil))
		for _, h := range cv.History {
			from := h.From
			if from == "" {
				from = "start"
			}
			c.printf("  %s  %-60s %s -> %s\n", clock(h.At), h.Input, from, h.To)
			for _, e := range h.Effects {
				c.printf("              · %s\n", e)
			}
		}
	})
}

func newConversationsCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "conversations",
		Short:   "recent conversations",
		GroupID: "server",
		Example: `  pppsim conversations`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var list struct {
				Conversations []convState `json:"conversations"`
			}
			if err := c.api.admin(ctx(cmd), "GET", "/conversations", nil, &list); err != nil {
				return err
			}
			return c.print(list, func() {
				for _, s := range list.Conversations {
					c.printf("%s  %-10s v%-3d meter %s bay %-4s paid until %s  updated %s\n", s.ID, s.Phase, s.Version, s.MeterID, s.Bay, clock(s.PaidUntil), clock(s.UpdatedAt))
				}
			})
		},
	}
}

func newAlertsCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "alerts",
		Short:   "operator alerts",
		GroupID: "server",
		Example: `  pppsim alerts --json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var list struct {
				Alerts []struct {
					At      time.Time `json:"at"`
					Conv    string    `json:"conversation"`
					Code    string    `json:"code"`
					Message string    `json:"message"`
					Meter   string    `json:"meter"`
				} `json:"alerts"`
			}
			if err := c.api.admin(ctx(cmd), "GET", "/alerts", nil, &list); err != nil {
				return err
			}
			return c.print(list, func() {
				if len(list.Alerts) == 0 {
					c.printf("(no alerts)\n")
				}
				for _, a := range list.Alerts {
					about := a.Conv
					if about == "" {
						about = "meter " + a.Meter
					}
					c.printf("%s  %-18s %s  (%s)\n", clock(a.At), a.Code, a.Message, about)
				}
			})
		},
	}
}
