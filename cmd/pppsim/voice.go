package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"
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

func cmdPhoneVoice(ctx context.Context, c *cli, args []string) error {
	var answer, press string
	var rings int
	pos, err := c.flags("phone voice", args, func(fs *flag.FlagSet) {
		fs.StringVar(&answer, "answer", "human", "")
		fs.StringVar(&press, "press", "", "")
		fs.IntVar(&rings, "rings", 2, "")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("phone voice PHONE --answer A [--press 1,1]: %w", errUsage)
	}
	body := map[string]any{"answer": answer, "rings": rings, "steps": steps(press)}
	if err := c.api.simctl(ctx, "POST", "/phones/"+url.PathEscape(pos[0])+"/voice", body, nil); err != nil {
		return err
	}
	c.printf("phone %s answers calls: %s after %d rings, pressing %q\n", pos[0], answer, rings, press)
	return nil
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

func cmdCall(ctx context.Context, c *cli, args []string) error {
	var from, press string
	var withheld bool
	if err := c.flagsOnly("call", args, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "")
		fs.StringVar(&press, "press", "", "")
		fs.BoolVar(&withheld, "withheld", false, "")
	}); err != nil {
		return err
	}
	if from == "" {
		return fmt.Errorf("call --from PHONE [--press 1,1]: %w", errUsage)
	}
	var cl simCall
	body := map[string]any{"steps": steps(press), "from_withheld": withheld}
	if err := c.api.simctl(ctx, "POST", "/phones/"+url.PathEscape(from)+"/call?wait=60s", body, &cl); err != nil {
		return err
	}
	if !cl.Ended {
		if err := c.api.simctl(ctx, "GET", "/calls/"+url.PathEscape(cl.Sid)+"?wait=60s", nil, &cl); err != nil {
			return err
		}
	}
	return c.print(cl, func() { c.printCall(cl) })
}

func cmdCalls(ctx context.Context, c *cli, args []string) error {
	pos, err := c.flags("calls", args, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("calls PHONE: %w", errUsage)
	}
	var calls []simCall
	if err := c.api.simctl(ctx, "GET", "/phones/"+url.PathEscape(pos[0])+"/calls", nil, &calls); err != nil {
		return err
	}
	return c.print(calls, func() {
		if len(calls) == 0 {
			c.printf("(no calls for %s)\n", pos[0])
		}
		for _, cl := range calls {
			c.printCall(cl)
		}
	})
}
