package scenario

import (
	"context"

	"ppprenew/sim/control"
)

// client speaks JSON to the server's admin API and the world's control API.
type client struct{ *control.Client }

func (c *client) admin(ctx context.Context, method, path string, in, out any) error {
	return c.Admin(ctx, method, path, in, out)
}

func (c *client) world(ctx context.Context, method, path string, in, out any) error {
	return c.World(ctx, method, path, in, out)
}

// status is the HTTP status of an answer outside 2xx, 0 otherwise.
func status(err error) int { return control.Status(err) }
