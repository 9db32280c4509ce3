package devicelink

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Service is the platform side of the device link: meter registry, command
// queue and its wake-and-verify lifecycle, and the meters' exchange
// endpoint. It is safe for concurrent use and
// keeps no state outside Redis, so any number of replicas may serve meters.
type Service struct {
	rdb     redis.UniversalClient
	cfg     Config
	kek     cipher.AEAD
	sink    Sink
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics
	canWake bool
}

// NewService builds a Service. masterKey is the platform's 32-byte
// key-encryption key under which meter keys are stored; sink receives meter
// reports; now is the clock (nil means time.Now).
func NewService(rdb redis.UniversalClient, cfg Config, masterKey []byte, sink Sink, now func() time.Time) (*Service, error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: nil redis client", ErrInvalid)
	}
	if sink == nil {
		return nil, fmt.Errorf("%w: nil sink", ErrInvalid)
	}
	if len(masterKey) != KeyLen {
		return nil, fmt.Errorf("%w: master key is %d bytes, want %d", ErrInvalid, len(masterKey), KeyLen)
	}
	block, err := aes.NewCipher(masterKey)
	if err != nil {
		return nil, fmt.Errorf("devicelink: master key: %w", err)
	}
	kek, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("devicelink: master key: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	cfg = cfg.withDefaults()
	_, none := cfg.Waker.(NoneWaker)
	_, nonePtr := cfg.Waker.(*NoneWaker)
	return &Service{
		canWake: !none && !nonePtr,
		rdb:     rdb,
		cfg:     cfg,
		kek:     kek,
		sink:    sink,
		now:     now,
		log:     cfg.Logger.With("component", "devicelink"),
		metrics: newMetrics(cfg.Registerer),
	}, nil
}

// timeFormat is how times are stored in Redis.
const timeFormat = time.RFC3339Nano

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
