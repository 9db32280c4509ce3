// Package pushtest has hand-written fakes for code that sends pushes.
package pushtest

import (
	"context"
	"fmt"
	"sync"

	"ppprenew/push"
)

// Provider records notifications instead of sending them.
type Provider struct {
	mu   sync.Mutex
	sent []push.Notification
	// Errors, when set for a token, is returned for every send to it.
	Errors map[string]error
}

var _ push.Provider = (*Provider)(nil)

// Send implements push.Provider.
func (p *Provider) Send(_ context.Context, n push.Notification) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Errors[n.Token]; err != nil {
		return "", err
	}
	p.sent = append(p.sent, n)
	return fmt.Sprintf("fake-%d", len(p.sent)), nil
}

// Sent returns the notifications sent so far, oldest first.
func (p *Provider) Sent() []push.Notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]push.Notification(nil), p.sent...)
}
