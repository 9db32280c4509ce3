package devicelinktest

import (
	"context"
	"fmt"
	"sync"

	"ppprenew/devicelink"
)

// Waker is a devicelink.Waker that records every request. OnWake, when set,
// runs for each request (e.g. to make a test meter connect back) and its
// result is returned; otherwise each wake gets call sid "CA<n>" and status
// "queued".
type Waker struct {
	// OnWake handles a request; nil means the default answer.
	OnWake func(ctx context.Context, req devicelink.WakeRequest) (devicelink.WakeResult, error)

	mu   sync.Mutex
	reqs []devicelink.WakeRequest
}

var _ devicelink.Waker = (*Waker)(nil)

// Wake implements devicelink.Waker.
func (w *Waker) Wake(ctx context.Context, req devicelink.WakeRequest) (devicelink.WakeResult, error) {
	w.mu.Lock()
	w.reqs = append(w.reqs, req)
	n := len(w.reqs)
	on := w.OnWake
	w.mu.Unlock()
	if on != nil {
		return on(ctx, req)
	}
	return devicelink.WakeResult{CallSID: fmt.Sprintf("CA%032d", n), Status: "queued"}, nil
}

// Requests returns the recorded requests in call order.
func (w *Waker) Requests() []devicelink.WakeRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]devicelink.WakeRequest(nil), w.reqs...)
}
