package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"time"
)

type (
	simPush struct {
		At       time.Time         `json:"at"`
		Provider string            `json:"provider"`
		Title    string            `json:"title"`
		Body     string            `json:"body"`
		Category string            `json:"category"`
		Data     map[string]string `json:"data"`
	}
	simApp struct {
		ID          string    `json:"id"`
		Phone       string    `json:"phone"`
		Platform    string    `json:"platform"`
		DeviceToken string    `json:"device_token"`
		Pushes      []simPush `json:"pushes"`
		Answers     []struct {
			At     time.Time `json:"at"`
			Conv   string    `json:"conv"`
			Press  string    `json:"press"`
			Status int       `json:"status"`
		} `json:"answers"`
	}
)

// cmdAppAdd gives a registered driver the simulated app: an app token from
// the admin API and a device registered through the app API.
func cmdAppAdd(ctx context.Context, c *cli, args []string) error {
	var phone, platform string
	if err := c.flagsOnly("app add", args, func(fs *flag.FlagSet) {
		fs.StringVar(&phone, "phone", "", "")
		fs.StringVar(&platform, "platform", "fcm", "")
	}); err != nil {
		return err
	}
	if phone == "" {
		return fmt.Errorf("app add --phone P [--platform fcm|apns]: %w", errUsage)
	}
	u, err := c.userByPhone(ctx, phone)
	if err != nil {
		return err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := c.api.admin(ctx, "POST", "/users/"+url.PathEscape(u.ID)+"/app-token", nil, &tok); err != nil {
		return err
	}
	var app simApp
	if err := c.api.simctl(ctx, "POST", "/apps", map[string]any{"phone": u.Phone, "platform": platform, "app_token": tok.Token, "server_url": c.api.server}, &app); err != nil {
		return err
	}
	return c.print(app, func() {
		c.printf("app %s installed for %s (%s device %s); pushes now reach it first\n", app.ID, u.Phone, app.Platform, app.DeviceToken)
	})
}

// cmdAppPress scripts the app to press a notification button.
func cmdAppPress(ctx context.Context, c *cli, args []string) error {
	var press string
	var after time.Duration
	pos, err := c.flags("app press", args, func(fs *flag.FlagSet) {
		fs.StringVar(&press, "press", "1", "")
		fs.DurationVar(&after, "after", 500*time.Millisecond, "")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("app press APP --press 1|2|3|yes|no|renew [--after 500ms]: %w", errUsage)
	}
	if err := c.api.simctl(ctx, "POST", "/apps/"+url.PathEscape(pos[0])+"/script", map[string]any{"press": press, "after_ms": after.Milliseconds()}, nil); err != nil {
		return err
	}
	c.printf("app %s will press %q %s after the next notification\n", pos[0], press, after)
	return nil
}

func cmdAppShow(ctx context.Context, c *cli, args []string) error {
	pos, err := c.flags("app show", args, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("app show APP: %w", errUsage)
	}
	var app simApp
	if err := c.api.simctl(ctx, "GET", "/apps/"+url.PathEscape(pos[0]), nil, &app); err != nil {
		return err
	}
	return c.print(app, func() {
		c.printf("app %s  %s  %s device %s\n", app.ID, app.Phone, app.Platform, app.DeviceToken)
		for _, p := range app.Pushes {
			c.printf("  %s  push [%s] %s: %s\n", clock(p.At), p.Category, p.Title, p.Body)
		}
		for _, a := range app.Answers {
			c.printf("  %s  pressed %q -> HTTP %d\n", clock(a.At), a.Press, a.Status)
		}
	})
}
