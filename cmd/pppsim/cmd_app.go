package main

import (
	"context"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// The driver's app: a simulated app installed for a registered driver that
// receives the server's pushes (through the fake FCM or APNs) and presses
// their buttons.

// appPresses are the buttons a notification has (sim's appPresses).
var appPresses = []string{"1", "2", "3", "yes", "no", "renew"}

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

func newAppCmd(c *cli) *cobra.Command {
	return newGroupCmd("app", "give drivers the simulated app and press its notifications", "app",
		newAppAddCmd(c), newAppPressCmd(c), newAppShowCmd(c))
}

// newAppAddCmd gives a registered driver the simulated app: an app token
// from the admin API and a device registered through the app API.
func newAppAddCmd(c *cli) *cobra.Command {
	var phone, platform string
	cmd := &cobra.Command{
		Use:   "add --phone P [--platform fcm|apns]",
		Short: "give a driver the simulated app (notifications first)",
		Example: `  pppsim app add --phone +85291234567
  pppsim app add --phone +85291234567 --platform apns`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return appAdd(ctx(cmd), c, phone, platform) },
	}
	cmd.Flags().StringVar(&phone, "phone", "", "the registered driver's phone")
	enumFlag(cmd, &platform, "platform", "fcm", "the device's push service", appPlatforms...)
	required(cmd, "phone")
	return cmd
}

func appAdd(ctx context.Context, c *cli, phone, platform string) error {
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

// newAppPressCmd scripts the app to press a notification button.
func newAppPressCmd(c *cli) *cobra.Command {
	var press string
	var after time.Duration
	cmd := &cobra.Command{
		Use:   "press APP --press 1|2|3|yes|no|renew [--after 500ms]",
		Short: "press a notification button when the next notification arrives",
		Example: `  pppsim app press app_1 --press 1
  pppsim app press app_1 --press renew --after 2s`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.api.simctl(ctx(cmd), "POST", "/apps/"+url.PathEscape(args[0])+"/script", map[string]any{"press": press, "after_ms": after.Milliseconds()}, nil); err != nil {
				return err
			}
			c.printf("app %s will press %q %s after the next notification\n", args[0], press, after)
			return nil
		},
	}
	enumFlag(cmd, &press, "press", "1", "the button pressed", appPresses...)
	cmd.Flags().DurationVar(&after, "after", 500*time.Millisecond, "wait this long after the notification")
	return cmd
}

func newAppShowCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "show APP",
		Short:   "notifications received and buttons pressed",
		Example: `  pppsim app show app_1`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var app simApp
			if err := c.api.simctl(ctx(cmd), "GET", "/apps/"+url.PathEscape(args[0]), nil, &app); err != nil {
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
		},
	}
}
