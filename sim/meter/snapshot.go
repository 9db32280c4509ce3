package meter

import (
	"slices"
	"time"
)

// Snapshot is a meter's state as testers see it.
type Snapshot struct {
	// ID is the meter id.
	ID string `json:"id"`
	// SIMNumber is the meter's SIM number.
	SIMNumber string `json:"sim_number,omitempty"`
	// Zone is the operator's zone.
	Zone string `json:"zone,omitempty"`
	// Location describes where the meter stands.
	Location string `json:"location,omitempty"`
	// Currency of the meter's payments.
	Currency string `json:"currency"`
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
	// Online is set for a meter that stays connected and polls.
	Online bool `json:"online"`
	// Awake is set while a sleeping meter is connected (until idle).
	Awake bool `json:"awake"`
	// BootCount counts the meter's power-ups.
	BootCount uint32 `json:"boot_count"`
	// KeyEpoch is the epoch of the key the meter seals under.
	KeyEpoch uint32 `json:"key_epoch"`
	// WakeAt is when an accepted wake call makes it connect back (zero if
	// none is pending).
	WakeAt time.Time `json:"wake_at,omitzero"`
	// NextCheckIn is the next scheduled check-in.
	NextCheckIn time.Time `json:"next_check_in,omitzero"`
	// AllowCallers is the caller-ID allow-list, masked.
	AllowCallers []string `json:"allow_callers"`
	// Sensors are the sensor readings the hellos report.
	Sensors Sensors `json:"sensors"`
	// Journal lists commands taken but not yet executed.
	Journal []string `json:"journal"`
	// Faults are the faults still armed.
	Faults Faults `json:"faults"`
	// Events is the event log, oldest first.
	Events []Event `json:"events"`
}

// BaySnapshot is one bay of a Snapshot.
type BaySnapshot struct {
	// Bay is the bay id.
	Bay string `json:"bay"`
	// PaidUntil is the bay's paid-until time on the meter.
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
	// Rings counts calls to the meter's number that reached it or not.
	Rings uint32 `json:"rings"`
	// Wakes counts wake calls accepted (caller allowed, within the rate).
	Wakes uint32 `json:"wakes"`
	// RefusedCalls counts calls dropped for a withheld or unknown caller ID.
	RefusedCalls uint32 `json:"refused_calls"`
	// RateLimitedWakes counts wake calls ignored by the wake rate limit.
	RateLimitedWakes uint32 `json:"rate_limited_wakes"`
	// UnreachableRings counts calls lost to the RadioUnreachable fault.
	UnreachableRings uint32 `json:"unreachable_rings"`
	// RejectedReplies counts platform replies the meter refused (bad tag,
	// replayed counter, wrong epoch or meter id).
	RejectedReplies uint32 `json:"rejected_replies"`
	// RejectedCommands counts commands refused (expired, bad key).
	RejectedCommands uint32 `json:"rejected_commands"`
	// PowerLosses counts reboots.
	PowerLosses uint32 `json:"power_losses"`
	// Sessions counts times the meter woke up and connected.
	Sessions int `json:"sessions"`
	// ReplaysSent counts old envelopes sent again (ReplayOld).
	ReplaysSent int `json:"replays_sent"`
	// DuplicatesSent counts messages sent twice (DuplicateSends).
	DuplicatesSent int `json:"duplicates_sent"`
	// Reordered counts messages held back behind the next (ReorderSends).
	Reordered int `json:"reordered"`
	// RenewsExecuted counts renew commands the meter executed (set a bay's
	// paid-until), each time it did: a command executed twice counts twice.
	RenewsExecuted int `json:"renews_executed"`
	// RenewsIgnored counts deliveries of a command the meter had already
	// applied: it acked them again and executed nothing.
	RenewsIgnored int `json:"renews_ignored"`
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
			Rings: m.stats.rings, Wakes: m.stats.wakes, RefusedCalls: m.stats.refusedCalls,
			RateLimitedWakes: m.stats.rateLimited, UnreachableRings: m.stats.unreachable,
			RejectedReplies: m.stats.rejectedReplies, RejectedCommands: m.stats.rejectedCommands,
			PowerLosses: m.stats.powerLosses, Sessions: m.stats.sessions, ReplaysSent: m.stats.replaysSent,
			DuplicatesSent: m.stats.duplicatesSent, Reordered: m.stats.reordered,
			RenewsExecuted: m.stats.renewsExecuted, RenewsIgnored: m.stats.renewsIgnored,
		},
		Online:       m.spec.Online,
		Awake:        m.awake,
		BootCount:    m.bootCount,
		KeyEpoch:     m.codec.Epoch(),
		WakeAt:       m.wakeAt,
		NextCheckIn:  m.nextCheckIn,
		AllowCallers: []string{},
		Sensors:      m.sensors,
		Journal:      []string{},
		LastExchange: m.lastExchange,
		LastError:    m.lastError,
		UploadError:  m.uploadError,
		Faults:       m.faults,
		Events:       slices.Clone(m.events),
	}
	if s.Applied == nil {
		s.Applied = []string{}
	}
	for c := range m.allow {
		s.AllowCallers = append(s.AllowCallers, maskNumber(c))
	}
	slices.Sort(s.AllowCallers)
	for _, j := range m.journal {
		s.Journal = append(s.Journal, j.CommandID)
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
