package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
)

// cmdDemo runs the README walkthrough in one go: register a driver and a
// meter, tap the card, answer the expiry SMS with 1, confirm the quote, and
// show the charge, the meter's new paid-until and the history.
func cmdDemo(ctx context.Context, c *cli, args []string) error {
	var phone, meterID, bay, lang string
	var timeout time.Duration
	if err := c.flagsOnly("demo", args, func(fs *flag.FlagSet) {
		fs.StringVar(&phone, "phone", fmt.Sprintf("+852912%05d", time.Now().UnixNano()/1e6%100000), "")
		fs.StringVar(&meterID, "meter", "MTR-DEMO", "")
		fs.StringVar(&bay, "bay", "12", "")
		fs.StringVar(&lang, "lang", "en", "")
		fs.DurationVar(&timeout, "timeout", 60*time.Second, "")
	}); err != nil {
		return err
	}
	step := func(format string, a ...any) { c.printf("\n== "+format+"\n", a...) }
	var conflict *apiError

	step("register driver %s (%s) with a credit card", phone, lang)
	if err := cmdUserAdd(ctx, c, []string{"--phone", phone, "--lang", lang}); err != nil {
		return err
	}
	step("register meter %s (bays 1-20)", meterID)
	if err := cmdMeterAdd(ctx, c, []string{"--id", meterID}); errors.As(err, &conflict) && conflict.Status == 409 {
		c.printf("meter %s already registered\n", meterID)
	} else if err != nil {
		return err
	}
	step("tap the card at bay %s for 10 minutes (the expiry notice is due at once: lead time 10m)", bay)
	if err := cmdTap(ctx, c, []string{"--meter", meterID, "--bay", bay, "--phone", phone, "--minutes", "10"}); err != nil {
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
	if err := cmdSMSSend(ctx, c, []string{"--from", phone, "1"}); err != nil {
		return err
	}
	if _, err := wait("quote", func(b string) bool { return strings.Contains(b, "4242") }); err != nil {
		return err
	}
	step("reply 1 (confirm the quote)")
	if err := cmdSMSSend(ctx, c, []string{"--from", phone, "1"}); err != nil {
		return err
	}
	if _, err := wait("confirmation", func(b string) bool { return strings.Contains(b, "charged") || strings.Contains(b, "已") }); err != nil {
		return err
	}
	step("the payment gateway's charges")
	if err := cmdCharges(ctx, c, nil); err != nil {
		return err
	}
	step("the meter's bays")
	if err := cmdMeterShow(ctx, c, []string{meterID}); err != nil {
		return err
	}
	step("the conversation's history")
	return cmdHistory(ctx, c, []string{"--phone", phone})
}
