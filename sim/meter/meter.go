package meter

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"ppprenew/devicelink"
)

// recentApplied is how many applied command ids a hello reports.
const recentApplied = 32

// errPowerLoss ends an exchange whose meter lost power.
var errPowerLoss = errors.New("meter: power lost")

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
	exchanges       int
	resendRequests  int
	lastExchange    time.Time
	lastError       string
	faults          Faults
	events          []Event

	// Link and power state.
	master       []byte
	helloReason  string // the next message is a hello with this reason
	awake        bool
	lastActivity time.Time
	wakeAt       time.Time // accepted wake call: connect back at
	nextCheckIn  time.Time
	bootCount    uint32
	journal      []devicelink.CommandMessage // taken, not yet executed
	ackLossAfter map[string]bool             // PowerLossAfterAck armed for these acks
	held         []byte                      // a reordered envelope
	sent         [][]byte                    // recent envelopes, for replays
	wakeLog      []time.Time
	sensors      Sensors
	allow        map[string]bool
	stats        linkStats
}

// linkStats are the counters of a meter's radio and power events.
type linkStats struct {
	rings, wakes, refusedCalls, rateLimited, unreachable uint32
	rejectedReplies, rejectedCommands, powerLosses       uint32
	sessions, replaysSent, duplicatesSent, reordered     int
	// renewsExecuted counts renew commands executed (paid-until set);
	// renewsIgnored counts deliveries of an already applied command.
	renewsExecuted, renewsIgnored int
}

type bay struct {
	paidUntil time.Time
	card      string
}

func newMeter(spec Spec, cfg Config, codec *devicelink.MeterCodec, master []byte) *Meter {
	m := &Meter{
		spec:         spec,
		cfg:          cfg,
		codec:        codec,
		master:       master,
		bays:         map[string]*bay{},
		skip:         map[uint64]bool{},
		appliedSet:   map[string]bool{},
		ackLossAfter: map[string]bool{},
		allow:        map[string]bool{},
		helloReason:  devicelink.ReasonBoot,
		bootCount:    1,
		sensors:      defaultSensors,
	}
	for _, b := range spec.Bays {
		m.bays[b] = &bay{}
	}
	callers := spec.AllowCallers
	if len(callers) == 0 && cfg.PlatformCallerID != "" {
		callers = []string{cfg.PlatformCallerID}
	}
	for _, c := range callers {
		m.allow[c] = true
	}
	m.nextCheckIn = m.nowLocked().Add(m.checkInInterval())
	return m
}

// ID returns the meter id.
func (m *Meter) ID() string { return m.spec.ID }

// nowLocked is the meter's clock (with the clock-skew fault); m.mu must be
// held.
func (m *Meter) nowLocked() time.Time {
	return m.cfg.Clock().Add(time.Duration(m.faults.ClockSkewSeconds) * time.Second)
}

func (m *Meter) checkInInterval() time.Duration {
	if m.spec.CheckInSeconds > 0 {
		return time.Duration(m.spec.CheckInSeconds) * time.Second
	}
	return m.cfg.CheckInInterval
}

func (m *Meter) idleTimeout() time.Duration {
	if m.spec.IdleSeconds > 0 {
		return time.Duration(m.spec.IdleSeconds) * time.Second
	}
	return m.cfg.IdleTimeout
}

func (m *Meter) connectBackDelay() time.Duration {
	if m.spec.ConnectBackDelayMS > 0 {
		return time.Duration(m.spec.ConnectBackDelayMS) * time.Millisecond
	}
	return m.cfg.ConnectBackDelay
}

func (m *Meter) maxWakesPerHour() int {
	if m.spec.MaxWakesPerHour > 0 {
		return m.spec.MaxWakesPerHour
	}
	return m.cfg.MaxWakesPerHour
}

// SetFaults arms faults, replacing those armed before.
func (m *Meter) SetFaults(f Faults) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.PowerLoss != "" && f.PowerLossTimes <= 0 {
		f.PowerLossTimes = 1
	}
	m.faults = f
	m.logLocked(fmt.Sprintf("faults armed: %+v", f))
}

// SetSensors sets what the meter's sensors report in its next hellos.
func (m *Meter) SetSensors(s Sensors) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sensors = s
	m.logLocked(fmt.Sprintf("sensors: %+v", s))
}

// logLocked appends an event; m.mu must be held.
func (m *Meter) logLocked(what string) {
	m.events = append(m.events, Event{At: m.nowLocked(), What: what})
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
	now := m.nowLocked().UTC().Truncate(time.Second)
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
	m.logLocked(fmt.Sprintf("tap bay %s card %s %s -> %s (seq %d)", bayID, maskToken(cardToken), d, b.paidUntil.UTC().Format("15:04:05 UTC"), seq))
	return r, nil
}

// applyCommandsLocked takes delivered commands: it applies each new one once
// (journal, execute, remember its id) and queues its ack. It returns
// errPowerLoss if a PowerLoss fault struck (the meter has rebooted). m.mu
// must be held.
func (m *Meter) applyCommandsLocked(cmds []devicelink.CommandMessage) error {
	now := m.nowLocked()
	if len(cmds) > 0 {
		defer func() { m.faults.LoseAcks = false }()
	}
	for _, c := range cmds {
		b, ok := m.bays[c.Bay]
		switch {
		case m.appliedSet[c.CommandID]:
			if c.Type == devicelink.CommandRenew {
				m.stats.renewsIgnored++
			}
			m.logLocked(fmt.Sprintf("command %s already applied, acking again", c.CommandID))
			ack := devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckApplied, Bay: c.Bay}
			if ok {
				ack.PaidUntil = b.paidUntil.UTC().Format(time.RFC3339)
			}
			m.queueAckLocked(ack)
		case c.Type == devicelink.CommandRotateKey:
			m.rotateLocked(c)
		case c.Type != devicelink.CommandRenew:
			m.logLocked(fmt.Sprintf("command %s of unknown type %q rejected", c.CommandID, c.Type))
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckRejected, Bay: c.Bay, Reason: "unknown command type"})
		case !ok:
			m.logLocked(fmt.Sprintf("command %s for unknown bay %s rejected", c.CommandID, c.Bay))
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckRejected, Bay: c.Bay, Reason: "unknown bay"})
		case !c.NotAfter.IsZero() && now.After(c.NotAfter):
			m.stats.rejectedCommands++
			m.logLocked(fmt.Sprintf("command %s past not_after rejected", c.CommandID))
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckRejected, Bay: c.Bay, Reason: devicelink.RejectExpired})
		default:
			if m.powerLossLocked(PowerLossBeforeJournal, c.CommandID) {
				return errPowerLoss
			}
			m.journal = append(m.journal, c)
			if m.powerLossLocked(PowerLossAfterJournal, c.CommandID) {
				return errPowerLoss
			}
			m.executeLocked(c)
			if m.powerLossLocked(PowerLossAfterExecute, c.CommandID) {
				return errPowerLoss
			}
			if m.faults.LoseAcks {
				m.logLocked(fmt.Sprintf("fault: power cut after applying %s, its ack is lost", c.CommandID))
				continue
			}
			if m.faults.PowerLoss == PowerLossAfterAck && m.faults.PowerLossTimes > 0 {
				m.faults.PowerLossTimes--
				if m.faults.PowerLossTimes == 0 {
					m.faults.PowerLoss = ""
				}
				m.ackLossAfter[c.CommandID] = true
			}
			m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckApplied, Bay: c.Bay, PaidUntil: m.bays[c.Bay].paidUntil.UTC().Format(time.RFC3339)})
		}
	}
	return nil
}

// executeLocked applies a journaled renewal: paid_until = max(current, new),
// remembers its id and clears it from the journal.
func (m *Meter) executeLocked(c devicelink.CommandMessage) {
	b := m.bays[c.Bay]
	if c.PaidUntil.After(b.paidUntil) {
		b.paidUntil = c.PaidUntil.UTC()
	}
	m.appliedSet[c.CommandID] = true
	m.applied = append(m.applied, c.CommandID)
	m.stats.renewsExecuted++
	m.journal = slices.DeleteFunc(m.journal, func(j devicelink.CommandMessage) bool { return j.CommandID == c.CommandID })
	m.logLocked(fmt.Sprintf("command %s renew bay %s -> %s", c.CommandID, c.Bay, b.paidUntil.UTC().Format("15:04:05 UTC")))
}

// powerLossLocked reboots the meter if a PowerLoss fault is armed at point.
func (m *Meter) powerLossLocked(point, commandID string) bool {
	if m.faults.PowerLoss != point || m.faults.PowerLossTimes <= 0 {
		return false
	}
	m.faults.PowerLossTimes--
	if m.faults.PowerLossTimes == 0 {
		m.faults.PowerLoss = ""
	}
	m.logLocked(fmt.Sprintf("fault: power lost %s of %s", point, commandID))
	m.rebootLocked()
	return true
}

// rebootLocked is a power cycle: what lives in RAM (queued acks, a held
// envelope, the session) is lost; records, applied ids, bays, keys, counters
// and the journal survive. At boot the journal is executed and the next
// message is a hello with reason boot.
func (m *Meter) rebootLocked() {
	m.stats.powerLosses++
	m.bootCount++
	m.pendingAcks = nil
	m.held = nil
	m.awake = false
	m.wakeAt = time.Time{}
	m.helloReason = devicelink.ReasonBoot
	for _, c := range slices.Clone(m.journal) {
		if m.appliedSet[c.CommandID] {
			continue
		}
		m.logLocked(fmt.Sprintf("boot: executing journaled command %s", c.CommandID))
		m.executeLocked(c)
	}
	m.journal = nil
	m.logLocked(fmt.Sprintf("rebooted (boot count %d)", m.bootCount))
}

// rotateLocked installs a new key from a rotate_key command: it unwraps it
// under the current key, keeps it, and seals every later message under it.
func (m *Meter) rotateLocked(c devicelink.CommandMessage) {
	next, err := devicelink.UnwrapKey(m.master, m.spec.ID, c.KeyEpoch, c.WrappedKey)
	if err == nil {
		err = m.codec.Rekey(c.KeyEpoch, next)
	}
	if err != nil {
		m.stats.rejectedCommands++
		m.logLocked(fmt.Sprintf("command %s: new key refused: %v", c.CommandID, err))
		m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckRejected, Reason: "bad key"})
		return
	}
	m.master = next
	m.appliedSet[c.CommandID] = true
	m.applied = append(m.applied, c.CommandID)
	m.stats.renewsExecuted++
	m.logLocked(fmt.Sprintf("command %s: key rotated to epoch %d", c.CommandID, c.KeyEpoch))
	m.queueAckLocked(devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckApplied})
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
