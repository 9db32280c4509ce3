package devicelinktest

import (
	"context"
	"sync"

	"ppprenew/devicelink"
)

// Alerts is a devicelink.AlertSink that records every alert and, like the
// platform's alert list, keeps an id only once.
type Alerts struct {
	mu     sync.Mutex
	seen   map[string]bool
	alerts []devicelink.SecurityAlert
	calls  int
}

var _ devicelink.AlertSink = (*Alerts)(nil)

// NewAlerts returns an empty alert recorder.
func NewAlerts() *Alerts { return &Alerts{seen: map[string]bool{}} }

// RaiseSecurityAlert implements devicelink.AlertSink.
func (a *Alerts) RaiseSecurityAlert(_ context.Context, al devicelink.SecurityAlert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if !a.seen[al.ID] {
		a.seen[al.ID] = true
		a.alerts = append(a.alerts, al)
	}
	return nil
}

// Alerts returns the distinct alerts raised, oldest first.
func (a *Alerts) Alerts() []devicelink.SecurityAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]devicelink.SecurityAlert(nil), a.alerts...)
}
