package meter

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"ppprenew/devicelink"
)

// Fleet runs simulated meters, each with its own loop.
type Fleet struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// gen is the meters' generation, a child of ctx: Reset cancels it to
	// stop the loops of the meters it forgets.
	gen       context.Context
	genCancel context.CancelFunc
	meters    map[string]*Meter
	order     []string
	closed    bool
}

// NewFleet returns an empty fleet; zero Config fields take DefaultConfig
// values (ServerURL and AdminURL must be set).
func NewFleet(cfg Config) *Fleet {
	ctx, cancel := context.WithCancel(context.Background())
	gen, genCancel := context.WithCancel(ctx)
	return &Fleet{cfg: cfg.withDefaults(), ctx: ctx, cancel: cancel, gen: gen, genCancel: genCancel, meters: map[string]*Meter{}}
}

// Add registers a meter with the platform (POST {AdminURL}/meters with the
// admin token), keeps the key the platform returns, says hello and starts
// the meter's poll loop. A failed first hello is recorded in the meter's
// event log and retried by the loop.
func (f *Fleet) Add(ctx context.Context, spec Spec) (*Meter, error) {
	if spec.ID == "" || len(spec.Bays) == 0 {
		return nil, fmt.Errorf("%w: a meter needs an id and at least one bay", ErrInvalid)
	}
	if spec.Currency == "" {
		spec.Currency = "HKD"
	}
	f.mu.Lock()
	closed, exists := f.closed, f.meters[spec.ID] != nil
	f.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if exists {
		return nil, fmt.Errorf("%w: meter %s", ErrExists, spec.ID)
	}
	key, epoch, err := f.register(ctx, spec)
	if err != nil {
		return nil, err
	}
	codec, err := devicelink.NewMeterCodec(spec.ID, epoch, key, 0)
	if err != nil {
		return nil, fmt.Errorf("meter %s: %w", spec.ID, err)
	}
	m := newMeter(spec, f.cfg, codec, key)
	m.log(fmt.Sprintf("registered with the platform (key epoch %d)", epoch))

	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, ErrClosed
	}
	if f.meters[spec.ID] != nil {
		f.mu.Unlock()
		return nil, fmt.Errorf("%w: meter %s", ErrExists, spec.ID)
	}
	f.meters[spec.ID] = m
	f.order = append(f.order, spec.ID)
	f.wg.Add(1)
	gen := f.gen
	f.mu.Unlock()

	m.mu.Lock()
	m.wakeUpLocked()
	m.mu.Unlock()
	_ = m.sync(ctx) // the outcome is in the event log; the loop retries
	go f.run(gen, m)
	return m, nil
}

// run is a meter's loop.
func (f *Fleet) run(gen context.Context, m *Meter) {
	defer f.wg.Done()
	t := time.NewTicker(f.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-gen.Done():
			return
		case <-t.C:
			_ = m.tick(gen) // the outcome is in the event log
		}
	}
}

// Tick runs every meter's due work now, one meter after the other: due
// connect-backs, check-ins and boot hellos, polls of online and awake
// meters, and byes of idle ones. Tests with a manual clock call it instead
// of running the loops; exchange errors are in the meters' event logs.
func (f *Fleet) Tick(ctx context.Context) {
	f.mu.Lock()
	ms := make([]*Meter, 0, len(f.order))
	for _, id := range f.order {
		ms = append(ms, f.meters[id])
	}
	f.mu.Unlock()
	for _, m := range ms {
		_ = m.tick(ctx)
	}
}

// CheckIn makes a meter check in now (a hello with reason scheduled) and
// returns the exchange error, if any.
func (f *Fleet) CheckIn(ctx context.Context, meterID string) error {
	m, err := f.meter(meterID)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.helloReason = devicelink.ReasonScheduled
	m.nextCheckIn = m.nowLocked().Add(m.checkInInterval())
	m.wakeUpLocked()
	m.mu.Unlock()
	return m.sync(ctx)
}

// PowerCycle cuts a meter's power and restores it: it reboots and says
// hello with reason boot at its next loop run (or Tick).
func (f *Fleet) PowerCycle(meterID string) error {
	m, err := f.meter(meterID)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logLocked("power cycled")
	m.rebootLocked()
	return nil
}

// registerResponse is the platform's answer to POST /meters.
type registerResponse struct {
	Meter struct {
		KeyEpoch uint32 `json:"key_epoch"`
	} `json:"meter"`
	Key   string `json:"key"`
	Error string `json:"error"`
}

// register creates the meter on the platform and returns its key and epoch.
func (f *Fleet) register(ctx context.Context, spec Spec) ([]byte, uint32, error) {
	body, _ := json.Marshal(map[string]any{
		"id": spec.ID, "sim_number": spec.SIMNumber, "zone": spec.Zone, "location": spec.Location, "bays": spec.Bays,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.AdminURL+"/meters", bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrRegister, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.cfg.AdminToken)
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrRegister, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var rr registerResponse
	_ = json.Unmarshal(raw, &rr)
	if resp.StatusCode == http.StatusConflict {
		// The id or the SIM number is registered already: the tester's to fix.
		return nil, 0, fmt.Errorf("%w: meter %s: platform answered %d %s", ErrExists, spec.ID, resp.StatusCode, rr.Error)
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, 0, fmt.Errorf("%w: meter %s: platform answered %d %s", ErrRegister, spec.ID, resp.StatusCode, rr.Error)
	}
	key, err := base64.StdEncoding.DecodeString(rr.Key)
	if err != nil || len(key) != devicelink.KeyLen || rr.Meter.KeyEpoch == 0 {
		return nil, 0, fmt.Errorf("%w: meter %s: no usable key in the answer", ErrRegister, spec.ID)
	}
	return key, rr.Meter.KeyEpoch, nil
}

// Meter returns a meter of the fleet.
func (f *Fleet) Meter(id string) (*Meter, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.meters[id]
	return m, ok
}

func (f *Fleet) meter(id string) (*Meter, error) {
	m, ok := f.Meter(id)
	if !ok {
		return nil, fmt.Errorf("%w: meter %s", ErrNotFound, id)
	}
	return m, nil
}

// Tap takes a card payment at a bay: paid_until = now + minutes, or the
// card's current paid-until + minutes if the same card still has time
// there. The record is appended to the meter's hash chain and uploaded at
// once; if the upload fails the poll loop retries it (see the event log).
func (f *Fleet) Tap(ctx context.Context, meterID, bay, cardToken string, minutes int, amountMinor int64) (devicelink.TxnRecord, error) {
	return f.TapFor(ctx, meterID, bay, cardToken, time.Duration(minutes)*time.Minute, amountMinor)
}

// TapFor is Tap for any whole number of seconds, so tests and testers can
// run a stay of seconds instead of minutes.
func (f *Fleet) TapFor(ctx context.Context, meterID, bay, cardToken string, d time.Duration, amountMinor int64) (devicelink.TxnRecord, error) {
	m, err := f.meter(meterID)
	if err != nil {
		return devicelink.TxnRecord{}, err
	}
	r, err := m.tap(bay, cardToken, d, amountMinor)
	if err != nil {
		return devicelink.TxnRecord{}, err
	}
	m.mu.Lock()
	m.wakeUpLocked()
	m.mu.Unlock()
	_ = m.sync(ctx)
	return r, nil
}

// Poll makes a meter exchange with the platform now (a poll, or whatever it
// has to send; a sleeping meter stays awake until idle) and returns the
// exchange error, if any.
func (f *Fleet) Poll(ctx context.Context, meterID string) error {
	m, err := f.meter(meterID)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.wakeUpLocked()
	m.mu.Unlock()
	return m.sync(ctx)
}

// Get returns a meter's snapshot: bays with paid_until, applied command ids,
// counters, last exchange and event log.
func (f *Fleet) Get(id string) (Snapshot, bool) {
	m, ok := f.Meter(id)
	if !ok {
		return Snapshot{}, false
	}
	return m.Snapshot(), true
}

// List returns every meter's snapshot in the order they were added.
func (f *Fleet) List() []Snapshot {
	f.mu.Lock()
	ms := make([]*Meter, 0, len(f.order))
	for _, id := range f.order {
		ms = append(ms, f.meters[id])
	}
	f.mu.Unlock()
	out := make([]Snapshot, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Snapshot())
	}
	return out
}

// Reset forgets every meter and stops their loops; the fleet stays open.
func (f *Fleet) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.genCancel()
	f.gen, f.genCancel = context.WithCancel(f.ctx)
	f.meters, f.order = map[string]*Meter{}, nil
}

// Close stops every poll loop and waits for them. Meters stay readable.
func (f *Fleet) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}
