// Package control is the JSON client testers' tools (the scenario runner,
// the load generator) use to reach the server's admin API (/admin/v1, with
// the admin bearer token) and the simulated world's control API (/sim/v1).
package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxAnswer bounds an answer read into memory (a world's whole message log
// can be long).
const maxAnswer = 64 << 20

// Client reaches one server and one world.
type Client struct {
	// Server and Sim are base URLs without a trailing slash.
	Server, Sim string
	// Token is the server's admin bearer token.
	Token string
	// HTTP makes the requests.
	HTTP *http.Client
}

// New returns a client; trailing slashes of the URLs are dropped.
func New(server, sim, token string, hc *http.Client) *Client {
	return &Client{Server: strings.TrimRight(server, "/"), Sim: strings.TrimRight(sim, "/"), Token: token, HTTP: hc}
}

// StatusError is an answer outside 2xx.
type StatusError struct {
	Method string
	Path   string // the path below the base URL
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// UnreachableError is a server or world that does not answer at all.
type UnreachableError struct {
	What string // "server" or "simulated world"
	Addr string // its base URL
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("the %s at %s is unreachable: %v", e.What, e.Addr, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Status is the HTTP status of a StatusError in err's chain, else 0.
func Status(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

// Admin calls the server's admin API: path is below /admin/v1.
func (c *Client) Admin(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, c.Server, "server", "/admin/v1"+path, c.Token, in, out)
}

// World calls the world's control API: path is below /sim/v1.
func (c *Client) World(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, c.Sim, "simulated world", "/sim/v1"+path, "", in, out)
}

func (c *Client) do(ctx context.Context, method, base, what, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &UnreachableError{What: what, Addr: base, Err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode >= 300 {
		return &StatusError{Method: method, Path: path, Status: res.StatusCode, Body: string(raw)}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
