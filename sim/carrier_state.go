package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Sentinel errors of the simulator's Go and control APIs.
var (
	// ErrInvalidNumber means a phone number is not in E.164 form.
	ErrInvalidNumber = errors.New("sim: not an E.164 phone number")
	// ErrNotPlatformNumber means a number is not owned by the platform account.
	ErrNotPlatformNumber = errors.New("sim: not a platform number")
	// ErrNoWebhook means no SMS webhook URL is configured.
	ErrNoWebhook = errors.New("sim: no SMS webhook URL configured")
	// ErrUnknownBehaviour means a handset behaviour name is not recognised.
	ErrUnknownBehaviour = errors.New("sim: unknown phone behaviour")
	// ErrUnknownFault means a fault kind is not recognised.
	ErrUnknownFault = errors.New("sim: unknown fault kind")
	// ErrNotFound means the message, card or charge does not exist.
	ErrNotFound = errors.New("sim: not found")
)

// Carrier is a simulated carrier: a subset of Twilio's Messaging REST API,
// status callbacks and inbound-SMS webhooks signed like Twilio's, simulated
// handsets and fault injection. State is in memory.
type Carrier struct {
	cfg Config
	hc  *http.Client
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	seq      int64
	msgs     map[string]*Message
	order    []*Message
	phones   map[string]*phoneState
	optedOut map[optPair]bool
	faults   map[FaultKind]*Fault
	// accepted counts Messages API POSTs that created a message, per To.
	accepted map[string]int
}

// NewCarrier returns a carrier simulator. hc sends the webhooks and status
// callbacks (a client with Twilio's 15 s webhook timeout when nil). Zero
// fields of cfg take DefaultConfig's values, except SMSWebhookURL.
func NewCarrier(cfg Config, hc *http.Client) *Carrier {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Carrier{
		cfg:      cfg,
		hc:       hc,
		log:      cfg.Logger.With("component", "sim.carrier"),
		ctx:      ctx,
		cancel:   cancel,
		msgs:     map[string]*Message{},
		phones:   map[string]*phoneState{},
		optedOut: map[optPair]bool{},
		faults:   map[FaultKind]*Fault{},
	}
}

// Register mounts the Twilio REST routes (/2010-04-01/...) and the control
// routes under /sim/v1/phones, /sim/v1/messages and /sim/v1/faults.
func (c *Carrier) Register(e *echo.Echo) {
	c.registerTwilio(e)
	c.registerControl(e)
}

// Close stops pending deliveries and waits for background work to end.
func (c *Carrier) Close() {
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.wg.Wait()
}

// background runs fn on its own goroutine unless the carrier is closed.
func (c *Carrier) background(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
}

// pause waits d, returning false if the carrier closed meanwhile.
func (c *Carrier) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// now returns the simulated time, in UTC.
func (c *Carrier) now() time.Time { return c.cfg.Clock().UTC() }

// isPlatformNumber reports whether n belongs to the platform account.
func (c *Carrier) isPlatformNumber(n string) bool {
	for _, p := range c.cfg.PlatformNumbers {
		if p == n {
			return true
		}
	}
	return false
}

// newSid returns a Twilio-style SID: prefix plus 32 hex digits.
func newSid(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
