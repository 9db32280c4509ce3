package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// api is a small JSON client for the server's admin API and the simulator's
// control API.
type api struct {
	server, sim, adminToken string
	hc                      *http.Client
}

// apiError is a non-2xx answer.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string {
	msg := strings.TrimSpace(e.Body)
	var wrapped struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal([]byte(e.Body), &wrapped) == nil && wrapped.Error.Message != "" {
		msg = wrapped.Error.Code + ": " + wrapped.Error.Message
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, msg)
}

func (a *api) do(ctx context.Context, method, url, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
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
	res, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is the server running? try `make run`)", method, url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if res.StatusCode >= 300 {
		return &apiError{Status: res.StatusCode, Body: string(raw)}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (a *api) admin(ctx context.Context, method, path string, in, out any) error {
	return a.do(ctx, method, a.server+"/admin/v1"+path, a.adminToken, in, out)
}

func (a *api) simctl(ctx context.Context, method, path string, in, out any) error {
	return a.do(ctx, method, a.sim+"/sim/v1"+path, "", in, out)
}

func newAPI(server, sim, token string) *api {
	return &api{server: strings.TrimRight(server, "/"), sim: strings.TrimRight(sim, "/"), adminToken: token, hc: &http.Client{Timeout: 30 * time.Second}}
}
