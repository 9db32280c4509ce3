package meter

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"ppprenew/devicelink"
)

// recentApplied is how many applied command ids a hello reports.
const recentApplied = 32

// Meter is one simulated meter. Its methods are safe for concurrent use;
// exchanges with the platform run one at a time.
type Meter struct {
	spec  Spec
	cfg   Config
	codec *devicelink.MeterCodec

	xmu sync.Mutex // serialises exchanges (counters must arrive in order)

	mu              sync.Mutex
	bays            map[string]*bay
	records         []devicelink.TxnRecord
	head            string
	acceptedThrough uint64
	skip            map[uint64]bool
	uploadError     string
	applied         []string
	appliedSet      map[string]bool
	pendingAcks     []devicelink.AckMessage
	helloSent       bool
	exchanges       int
	resendRequests  int
	lastExchange    time.Time
	lastError       string
	faults          Faults
	events          []Event
}

type bay struct {
	paidUntil time.Time
	card      string
}

func newMeter(spec Spec, cfg Config, codec *devicelink.MeterCodec) *Meter {
	m := &Meter{
		spec:       spec,
		cfg:        cfg,
		codec:      codec,
		bays:       map[string]*bay{},
		skip:       map[uint64]bool{},
		appliedSet: map[string]bool{},
	}
	for _, b := range spec.Bays {
		m.bays[b] = &bay{}
	}
	return m
}

// ID returns the meter id.
func (m *Meter) ID() string { return m.spec.ID }

// SetFaults arms faults, replacing those armed before.
func (m *Meter) SetFaults(f Faults) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = f
	m.logLocked(fmt.Sprintf("faults armed: %+v", f))
}

// logLocked appends an event; m.mu must be held.
func (m *Meter) logLocked(what string) {
	m.events = append(m.events, Event{At: m.cfg.Clock(), What: what})
	if len(m.events) > maxEvents {
		m.events = slices.Delete(m.events, 0, len(m.events)-maxEvents)
	}
}

func (m *Meter) log(what string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logLocked(what)
}

// tap takes a card payment at a bay and appends it to the hash chain. The
// same card with time left extends from its paid-until time; any other
// payment starts from now (the next driver's payment overrides).
func (m *Meter) tap(bayID, cardToken string, d time.Duration, amountMinor int64) (devicelink.TxnRecord, error) {
	if d < time.Second || amountMinor < 0 || cardToken == "" {
		return devicelink.TxnRecord{}, fmt.Errorf("%w: paid time must be at least a second, amount not negative, card token set", ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bays[bayID]
	if !ok {
		return devicelink.TxnRecord{}, fmt.Errorf("%w: meter %s has no bay %q", ErrInvalid, m.spec.ID, bayID)
	}
	now := m.cfg.Clock().UTC().Truncate(time.Second)
	from := now
	if b.card == cardToken && b.paidUntil.After(now) {
		from = b.paidUntil
	}
	b.paidUntil, b.card = from.Add(d.Truncate(time.Second)), cardToken
	seq := uint64(len(m.records)) + 1
	r := devicelink.Chain(m.head, devicelink.TxnRecord{
		Seq:         seq,
		TxnID:       fmt.Sprintf("%s-%06d", m.spec.ID, seq),
		Bay:         bayID,
		CardToken:   cardToken,
		AmountMinor: amountMinor,
		Currency:    m.spec.Currency,
		PaidAt:      now.Format(time.RFC3339),
		PaidUntil:   b.paidUntil.Format(time.RFC3339),
	})
	m.head = r.Hash
	if m.faults.TamperNext {
		m.faults.TamperNext = false
		r.AmountMinor++
		m.logLocked(fmt.Sprintf("fault: record seq %d altered after hashing", seq))
	}
	if m.faults.SkipNext {
		m.faults.SkipNext = false
		m.skip[seq] = true
		m.logLocked(fmt.Sprintf("fault: record seq %d left out of the next upload", seq))
	}
	m.records = append(m.records, r)
	m.logLocked(fmt.Sprintf("tap bay %s card %s %s -> %s (seq %d)", bayID, maskToken(cardToken), d, b.paidUntil.Format("15:04:05"), seq))
	return r, nil
}

// applyCommands applies delivered commands and queues their acks; m.mu must
// be held.
func (m *Meter) applyCommandsLocked(cmds []devicelink.CommandMessage) {
	now := m.cfg.Clock()
	for _, c := range cmds {
		b, ok := m.bays[c.Bay]
		switch {
		case m.appliedSet[c.CommandID]:
			m.logLocked(fmt.Sprintf("command %s already applied, acking again", c.CommandID))
			if ok {
				m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckApplied, Bay: c.Bay, PaidUntil: b.paidUntil.UTC().Format(time.RFC3339)})
			}
		case c.Type != devicelink.CommandRenew:
			m.logLocked(fmt.Sprintf("command %s of unknown type %q rejected", c.CommandID, c.Type))
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckRejected, Bay: c.Bay, Reason: "unknown command type"})
		case !ok:
			m.logLocked(fmt.Sprintf("command %s for unknown bay %s rejected", c.CommandID, c.Bay))
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckRejected, Bay: c.Bay, Reason: "unknown bay"})
		case !c.NotAfter.IsZero() && now.After(c.NotAfter):
			m.logLocked(fmt.Sprintf("command %s past not_after rejected", c.CommandID))
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckRejected, Bay: c.Bay, Reason: "expired"})
		default:
			if c.PaidUntil.After(b.paidUntil) {
				b.paidUntil = c.PaidUntil.UTC()
			}
			m.appliedSet[c.CommandID] = true
			m.applied = append(m.applied, c.CommandID)
			m.logLocked(fmt.Sprintf("command %s renew bay %s -> %s", c.CommandID, c.Bay, b.paidUntil.Format("15:04:05")))
			if m.faults.LoseAcks {
				m.logLocked(fmt.Sprintf("fault: power cut after applying %s, its ack is lost", c.CommandID))
				continue
			}
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckApplied, Bay: c.Bay, PaidUntil: b.paidUntil.UTC().Format(time.RFC3339)})
		}
	}
	m.faults.LoseAcks = false
}

// queueAckLocked queues an ack unless one for the command is waiting.
func (m *Meter) queueAckLocked(a devicelink.AckMessage) {
	for i, p := range m.pendingAcks {
		if p.CommandID == a.CommandID {
			m.pendingAcks[i] = a
			return
		}
	}
	m.pendingAcks = append(m.pendingAcks, a)
}

// recentAppliedLocked returns the most recently applied command ids.
func (m *Meter) recentAppliedLocked() []string {
	if len(m.applied) <= recentApplied {
		return slices.Clone(m.applied)
	}
	return slices.Clone(m.applied[len(m.applied)-recentApplied:])
}
