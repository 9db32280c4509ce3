package sim

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// FaultKind names an injectable carrier fault.
type FaultKind string

// Fault kinds.
const (
	// FaultMessages5xx rejects the next Count message creates with 500.
	FaultMessages5xx FaultKind = "messages_5xx"
	// FaultMessages429 rejects the next Count message creates with 429 (20429).
	FaultMessages429 FaultKind = "messages_429"
	// FaultMessagesTimeout accepts the next Count messages (they are recorded
	// and delivered) but holds the HTTP answer for DelayMS, so the client
	// times out without knowing the outcome.
	FaultMessagesTimeout FaultKind = "messages_timeout"
	// FaultStatusDuplicate posts every status callback of the next Count
	// messages twice.
	FaultStatusDuplicate FaultKind = "status_duplicate"
	// FaultStatusOutOfOrder posts the status callbacks of the next Count
	// messages in reverse order (terminal status first).
	FaultStatusOutOfOrder FaultKind = "status_out_of_order"
	// FaultQueueDelay keeps the next Count messages queued until the
	// simulated clock has moved DelayMS past their creation; a message whose
	// age then exceeds its ValidityPeriod fails with 30036.
	FaultQueueDelay FaultKind = "queue_delay"
)

// Fault is a pending fault: it applies to the next Count matching events.
type Fault struct {
	Kind    FaultKind `json:"kind"`
	Count   int       `json:"count"`
	DelayMS int       `json:"delay_ms,omitempty"`
}

// FaultKinds lists every carrier fault kind InjectFault accepts, for tools
// that describe or complete them.
func FaultKinds() []FaultKind {
	return []FaultKind{FaultMessages5xx, FaultMessages429, FaultMessagesTimeout,
		FaultStatusDuplicate, FaultStatusOutOfOrder, FaultQueueDelay}
}

func (k FaultKind) valid() bool { return slices.Contains(FaultKinds(), k) }

// InjectFault arms a fault, replacing a pending one of the same kind. Count
// defaults to 1; DelayMS defaults to Config.FaultDelay for messages_timeout.
func (c *Carrier) InjectFault(f Fault) error {
	if !f.Kind.valid() {
		return fmt.Errorf("%w: %q", ErrUnknownFault, f.Kind)
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.DelayMS < 0 {
		return fmt.Errorf("sim: negative delay_ms %d", f.DelayMS)
	}
	if f.Kind == FaultMessagesTimeout && f.DelayMS == 0 {
		f.DelayMS = int(c.cfg.FaultDelay / time.Millisecond)
	}
	c.mu.Lock()
	c.faults[f.Kind] = &f
	c.mu.Unlock()
	c.log.Info("sim fault armed", "kind", string(f.Kind), "count", f.Count, "delay_ms", f.DelayMS)
	return nil
}

// ClearFaults disarms every fault.
func (c *Carrier) ClearFaults() {
	c.mu.Lock()
	c.faults = map[FaultKind]*Fault{}
	c.mu.Unlock()
	c.log.Info("sim faults cleared")
}

// Faults returns the armed faults, by kind.
func (c *Carrier) Faults() []Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Fault, 0, len(c.faults))
	for _, f := range c.faults {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// takeFaultLocked consumes one use of a fault; the caller holds c.mu.
func (c *Carrier) takeFaultLocked(kind FaultKind) (Fault, bool) {
	f, ok := c.faults[kind]
	if !ok {
		return Fault{}, false
	}
	f.Count--
	if f.Count <= 0 {
		delete(c.faults, kind)
	}
	return *f, true
}

// takeFault consumes one use of a fault.
func (c *Carrier) takeFault(kind FaultKind) (Fault, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeFaultLocked(kind)
}
