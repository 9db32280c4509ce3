package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// client speaks JSON to the server's admin API and the world's control API.
type client struct {
	server, sim, token string
	hc                 *http.Client
}

// apiError is a non-2xx answer.
type apiError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, strings.TrimSpace(e.Body))
}

// unreachableError is a server or world that does not answer.
type unreachableError struct {
	What, Addr string
	Err        error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("the %s at %s is unreachable: %v", e.What, e.Addr, e.Err)
}

func (c *client) do(ctx context.Context, method, base, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	url := base + path
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		what := "server"
		if base == c.sim {
			what = "simulated world"
		}
		return &unreachableError{What: what, Addr: base, Err: err}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if res.StatusCode >= 300 {
		return &apiError{Method: method, URL: path, Status: res.StatusCode, Body: string(raw)}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func (c *client) admin(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, c.server, "/admin/v1"+path, c.token, in, out)
}

func (c *client) world(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, c.sim, "/sim/v1"+path, "", in, out)
}

// status is the HTTP status of an apiError, 0 otherwise.
func status(err error) int {
	if e, ok := err.(*apiError); ok {
		return e.Status
	}
	return 0
}
