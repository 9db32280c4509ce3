package meter

import (
	"slices"
	"time"
)

// Snapshot is a meter's state as testers see it.
type Snapshot struct {
	ID        string `json:"id"`
	SIMNumber string `json:"sim_number,omitempty"`
	Zone      string `json:"zone,omitempty"`
	Location  string `json:"location,omitempty"`
	Currency  string `json:"currency"`
	// Bays are the bays with their paid-until times, in the meter's order.
	Bays []BaySnapshot `json:"bays"`
	// Applied lists every command id the meter applied, oldest first.
	Applied []string `json:"applied"`
	// Counters are the meter's link counters.
	Counters Counters `json:"counters"`
	// LastExchange is the meter time of the last completed exchange.
	LastExchange time.Time `json:"last_exchange,omitzero"`
	// LastError is the last exchange error ("" after a success).
	LastError string `json:"last_error,omitempty"`
	// UploadError is set when the platform refused a record; the meter stops
	// uploading (it would need service).
	UploadError string `json:"upload_error,omitempty"`
	// Faults are the faults still armed.
	Faults Faults `json:"faults"`
	// Events is the event log, oldest first.
	Events []Event `json:"events"`
}

// BaySnapshot is one bay of a Snapshot.
type BaySnapshot struct {
	Bay       string    `json:"bay"`
	PaidUntil time.Time `json:"paid_until,omitzero"`
	// Card is the masked token of the card that paid last.
	Card string `json:"card,omitempty"`
}

// Counters are a meter's link counters.
type Counters struct {
	// Sent is the last envelope counter the meter used.
	Sent uint64 `json:"sent"`
	// Received is the last reply counter the meter accepted.
	Received uint64 `json:"received"`
	// Records is the number of payment records (the last seq).
	Records uint64 `json:"records"`
	// AcceptedThrough is the last seq the platform confirmed.
	AcceptedThrough uint64 `json:"accepted_through"`
	// PendingAcks counts acks not yet confirmed.
	PendingAcks int `json:"pending_acks"`
	// Exchanges counts completed exchanges.
	Exchanges int `json:"exchanges"`
	// ResendRequests counts replies that asked for a resend after a gap.
	ResendRequests int `json:"resend_requests"`
}

// Snapshot returns the meter's current state.
func (m *Meter) Snapshot() Snapshot {
	sent, recv := m.codec.Counters()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{
		ID: m.spec.ID, SIMNumber: m.spec.SIMNumber, Zone: m.spec.Zone, Location: m.spec.Location, Currency: m.spec.Currency,
		Applied: slices.Clone(m.applied),
		Counters: Counters{
			Sent: sent, Received: recv, Records: uint64(len(m.records)), AcceptedThrough: m.acceptedThrough,
			PendingAcks: len(m.pendingAcks), Exchanges: m.exchanges, ResendRequests: m.resendRequests,
		},
		LastExchange: m.lastExchange,
		LastError:    m.lastError,
		UploadError:  m.uploadError,
		Faults:       m.faults,
		Events:       slices.Clone(m.events),
	}
	if s.Applied == nil {
		s.Applied = []string{}
	}
	for _, id := range m.spec.Bays {
		b := m.bays[id]
		bs := BaySnapshot{Bay: id, PaidUntil: b.paidUntil}
		if b.card != "" {
			bs.Card = maskToken(b.card)
		}
		s.Bays = append(s.Bays, bs)
	}
	return s
}
