package main

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Phones: the carrier's simulated handsets, how they answer SMS and calls,
// and what they received.

var (
	// phoneBehaviours are the sim's phone behaviours (sim.Behaviour...).
	phoneBehaviours = []string{"ok", "unreachable", "landline", "filtered"}
	// voiceAnswers are how a phone answers a call (sim.Answer...).
	voiceAnswers = []string{"human", "voicemail", "busy", "no-answer", "failed"}
)

type (
	voiceStep struct {
		Digits    string `json:"digits,omitempty"`
		Hangup    bool   `json:"hangup,omitempty"`
		Duplicate bool   `json:"duplicate,omitempty"`
	}
	transcriptEntry struct {
		T        int    `json:"t"`
		Kind     string `json:"kind"`
		Text     string `json:"text"`
		Language string `json:"language"`
		Voice    string `json:"voice"`
		URL      string `json:"url"`
		Detail   string `json:"detail"`
	}
	simCall struct {
		Sid        string            `json:"sid"`
		Direction  string            `json:"direction"`
		From       string            `json:"from"`
		To         string            `json:"to"`
		Status     string            `json:"status"`
		AnsweredBy string            `json:"answered_by"`
		DurationS  int               `json:"duration_s"`
		Ended      bool              `json:"ended"`
		Created    time.Time         `json:"date_created"`
		Transcript []transcriptEntry `json:"transcript"`
	}
)

// steps turns "1,1,2468" into one step per menu; "hangup" hangs up there,
// "-" stays silent and "1x2" presses 1 with the webhook delivered twice.
func steps(press string) []voiceStep {
	var out []voiceStep
	for _, p := range strings.Split(press, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "hangup":
			out = append(out, voiceStep{Hangup: true})
		case strings.HasSuffix(p, "x2"):
			// "1x2": press 1 and have the carrier deliver it twice.
			out = append(out, voiceStep{Digits: strings.TrimSuffix(p, "x2"), Duplicate: true})
		case p == "" || p == "-":
			out = append(out, voiceStep{})
		default:
			out = append(out, voiceStep{Digits: p})
		}
	}
	if press == "" {
		return nil
	}
	return out
}

func (c *cli) printCall(cl simCall) {
	c.printf("call %s  %s  %s -> %s  %s", cl.Sid, cl.Direction, cl.From, cl.To, cl.Status)
	if cl.AnsweredBy != "" {
		c.printf(" (answered by %s)", cl.AnsweredBy)
	}
	c.printf("  %ds\n", cl.DurationS)
	held := 0
	for i, e := range cl.Transcript {
		if e.Kind == "redirect" || e.Kind == "pause" {
			// Holding music: one line for a run of pauses.
			if e.Kind == "pause" {
				held++
			}
			if next := i + 1; next < len(cl.Transcript) && (cl.Transcript[next].Kind == "redirect" || cl.Transcript[next].Kind == "pause") {
				continue
			}
			if held > 0 {
				c.printf("  %4ds  (caller holds: %d pauses)\n", e.T, held)
			}
			held = 0
			continue
		}
		switch e.Kind {
		case "say":
			c.printf("  %4ds  platform says [%s]: %s\n", e.T, e.Language, e.Text)
		case "digits":
			c.printf("  %4ds  caller presses %s\n", e.T, e.Text)
		case "timeout":
			c.printf("  %4ds  caller presses nothing\n", e.T)
		case "status":
			c.printf("  %4ds  status %s\n", e.T, e.Text)
		default:
			text := strings.TrimSpace(e.Text + " " + e.Detail)
			c.printf("  %4ds  %s %s\n", e.T, e.Kind, text)
		}
	}
}

func newPhoneCmd(c *cli) *cobra.Command {
	return newGroupCmd("phone", "set how a simulated phone takes messages and calls", "phones",
		newPhoneSetCmd(c), newPhoneVoiceCmd(c))
}

func newPhoneSetCmd(c *cli) *cobra.Command {
	var behaviour string
	cmd := &cobra.Command{
		Use:   "set PHONE --behaviour B",
		Short: "how the carrier treats messages to a phone (see pppsim fault list)",
		Long: `Set how the carrier treats messages to a phone: ok sends and delivers them,
unreachable sends them and reports them undelivered (30003), landline fails
them (30006), filtered sends them and reports them undelivered (30007).`,
		Example: `  pppsim phone set +85291234567 --behaviour unreachable
  pppsim phone set +85291234567 --behaviour ok`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.api.simctl(ctx(cmd), "POST", "/phones/"+url.PathEscape(args[0]), map[string]any{"behaviour": behaviour}, nil); err != nil {
				return err
			}
			c.printf("phone %s now behaves %s\n", args[0], behaviour)
			return nil
		},
	}
	enumFlag(cmd, &behaviour, "behaviour", "ok", "how the phone takes messages", phoneBehaviours...)
	return cmd
}

func newPhoneVoiceCmd(c *cli) *cobra.Command {
	var answer, press string
	var rings int
	cmd := &cobra.Command{
		Use:   "voice PHONE --answer A [--press 1,1]",
		Short: "how the phone answers the platform's calls, and the keys it presses",
		Long: `Set how a phone answers the platform's calls and the keys pressed at each
menu, in order: --press 1,2468 presses 1 at the first menu and 2468 at the
second; - stays silent, hangup hangs up, 1x2 presses 1 and the carrier
delivers the webhook twice.`,
		Example: `  pppsim phone voice +85291234567 --answer human --press 1,1,2468
  pppsim phone voice +85291234567 --answer voicemail
  pppsim phone voice +85291234567 --answer human --rings 5 --press -,hangup`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"answer": answer, "rings": rings, "steps": steps(press)}
			if err := c.api.simctl(ctx(cmd), "POST", "/phones/"+url.PathEscape(args[0])+"/voice", body, nil); err != nil {
				return err
			}
			c.printf("phone %s answers calls: %s after %d rings, pressing %q\n", args[0], answer, rings, press)
			return nil
		},
	}
	enumFlag(cmd, &answer, "answer", "human", "how the phone answers", voiceAnswers...)
	cmd.Flags().StringVar(&press, "press", "", "keys pressed at each menu, comma-separated")
	cmd.Flags().IntVar(&rings, "rings", 2, "rings before answering")
	return cmd
}

func newCallCmd(c *cli) *cobra.Command {
	var from, press string
	var withheld bool
	cmd := &cobra.Command{
		Use:     "call --from P [--press 1,1] [--withheld]",
		Short:   "call the platform from a phone and print the call",
		GroupID: "phones",
		Example: `  pppsim call --from +85291234567 --press 1,1
  pppsim call --from +85291234567 --withheld`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cl simCall
			body := map[string]any{"steps": steps(press), "from_withheld": withheld}
			if err := c.api.simctl(ctx(cmd), "POST", "/phones/"+url.PathEscape(from)+"/call?wait=60s", body, &cl); err != nil {
				return err
			}
			if !cl.Ended {
				if err := c.api.simctl(ctx(cmd), "GET", "/calls/"+url.PathEscape(cl.Sid)+"?wait=60s", nil, &cl); err != nil {
					return err
				}
			}
			return c.print(cl, func() { c.printCall(cl) })
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the calling phone")
	cmd.Flags().StringVar(&press, "press", "", "keys pressed at each menu, comma-separated (as phone voice)")
	cmd.Flags().BoolVar(&withheld, "withheld", false, "withhold the caller's number")
	required(cmd, "from")
	return cmd
}

func newCallsCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "calls PHONE",
		Short:   "the calls of a phone with what was said and pressed",
		GroupID: "phones",
		Example: `  pppsim calls +85291234567`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var calls []simCall
			if err := c.api.simctl(ctx(cmd), "GET", "/phones/"+url.PathEscape(args[0])+"/calls", nil, &calls); err != nil {
				return err
			}
			return c.print(calls, func() {
				if len(calls) == 0 {
					c.printf("(no calls for %s)\n", args[0])
				}
				for _, cl := range calls {
					c.printCall(cl)
				}
			})
		},
	}
}

func newSMSCmd(c *cli) *cobra.Command {
	return newGroupCmd("sms", "send texts from a phone and read what it received", "phones",
		newSMSSendCmd(c), newSMSInboxCmd(c))
}

func newSMSSendCmd(c *cli) *cobra.Command {
	var from, to string
	var twice bool
	cmd := &cobra.Command{
		Use:   "send --from P [--to N] [--twice] TEXT",
		Short: "a text from a phone to the platform",
		Example: `  pppsim sms send --from +85291234567 1
  pppsim sms send --from +85291234567 --twice YES`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return smsSend(ctx(cmd), c, from, to, twice, strings.Join(args, " "))
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the sending phone")
	cmd.Flags().StringVar(&to, "to", "", "the platform number texted (default: the platform's)")
	cmd.Flags().BoolVar(&twice, "twice", false, "have the carrier deliver the webhook twice")
	required(cmd, "from")
	return cmd
}

func smsSend(ctx context.Context, c *cli, from, to string, twice bool, body string) error {
	var res inboundResult
	if err := c.api.simctl(ctx, "POST", "/phones/"+url.PathEscape(from)+"/sms", map[string]any{"to": to, "body": body, "duplicate": twice}, &res); err != nil {
		return err
	}
	return c.print(res, func() {
		c.printf("%s -> platform: %q  (webhook answered %d, %d deliveries, %s)\n", from, body, res.WebhookStatus, res.Deliveries, res.MessageSid)
		if res.WebhookError != "" {
			c.printf("  webhook error: %s\n", res.WebhookError)
		}
	})
}

func newSMSInboxCmd(c *cli) *cobra.Command {
	var wait time.Duration
	var follow bool
	cmd := &cobra.Command{
		Use:   "inbox PHONE [--wait 30s] [--follow]",
		Short: "what a phone received",
		Example: `  pppsim sms inbox +85291234567
  pppsim sms inbox +85291234567 --wait 30s
  pppsim sms inbox +85291234567 --follow`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return smsInbox(ctx(cmd), c, args[0], wait, follow) },
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait this long for a first message")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing messages as they arrive")
	return cmd
}

func smsInbox(ctx context.Context, c *cli, phone string, wait time.Duration, follow bool) error {
	msgs, err := c.inbox(ctx, phone, "")
	if err != nil {
		return err
	}
	if c.json && !follow {
		return c.print(msgs, nil)
	}
	for _, m := range msgs {
		c.printMessage(m)
	}
	if len(msgs) == 0 && wait == 0 && !follow {
		c.printf("(no messages for %s)\n", phone)
		return nil
	}
	last := ""
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].Sid
	}
	deadline := time.Now().Add(wait)
	for follow || (len(msgs) == 0 && time.Now().Before(deadline)) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
		more, err := c.inbox(ctx, phone, last)
		if err != nil {
			return err
		}
		for _, m := range more {
			c.printMessage(m)
			last = m.Sid
		}
		msgs = append(msgs, more...)
	}
	return nil
}
