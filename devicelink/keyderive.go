package devicelink

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"strconv"
	"sync"
)

// KeyLen is the length of meter master keys and derived envelope keys.
const KeyLen = 32

// hkdfSalt is the HKDF salt of every envelope key derivation.
const hkdfSalt = "ppp-devicelink-v1"

// Direction names which way an envelope travels; each direction has its own
// key and nonce tag.
type Direction string

// The two directions.
const (
	// MeterToPlatform is the direction of meter messages.
	MeterToPlatform Direction = "m2p"
	// PlatformToMeter is the direction of platform replies.
	PlatformToMeter Direction = "p2m"
)

// tag is the 4-byte nonce prefix of the direction.
func (d Direction) tag() []byte {
	switch d {
	case MeterToPlatform:
		return []byte{'m', '2', 'p', 0}
	case PlatformToMeter:
		return []byte{'p', '2', 'm', 0}
	}
	panic("devicelink: unknown direction " + string(d))
}

// DeriveKey derives the envelope key of one meter, key epoch and direction
// from the meter's 32-byte master key: HKDF-SHA256 with salt
// "ppp-devicelink-v1" and info "<direction>|<epoch>|<meter id>".
func DeriveKey(master []byte, d Direction, epoch uint32, meterID string) ([]byte, error) {
	if len(master) != KeyLen {
		return nil, fmt.Errorf("%w: master key is %d bytes, want %d", ErrInvalid, len(master), KeyLen)
	}
	if d != MeterToPlatform && d != PlatformToMeter {
		return nil, fmt.Errorf("%w: direction %q", ErrInvalid, d)
	}
	info := string(d) + "|" + strconv.FormatUint(uint64(epoch), 10) + "|" + meterID
	return hkdf.Key(sha256.New, master, []byte(hkdfSalt), info, KeyLen)
}

// StaticKeys is an in-memory KeySource for one meter and one direction: a
// meter opening platform replies uses it (Direction PlatformToMeter), and so
// do tests. It is safe for concurrent use.
type StaticKeys struct {
	// MeterID is the only meter id accepted.
	MeterID string
	// Epoch is the only key epoch accepted.
	Epoch uint32
	// Master is the meter's 32-byte master key.
	Master []byte
	// Direction is the only direction accepted.
	Direction Direction

	mu   sync.Mutex
	last uint64
}

var _ KeySource = (*StaticKeys)(nil)

// OpenKey implements KeySource.
func (k *StaticKeys) OpenKey(h Header) ([]byte, error) {
	if h.Direction() != k.Direction {
		return nil, fmt.Errorf("%w: direction %q not accepted", ErrMalformed, h.Direction())
	}
	if h.MeterID != k.MeterID {
		return nil, ErrUnknownMeter
	}
	if h.Epoch != k.Epoch {
		return nil, fmt.Errorf("%w: got %d, want %d", ErrEpoch, h.Epoch, k.Epoch)
	}
	return DeriveKey(k.Master, k.Direction, k.Epoch, k.MeterID)
}

// CheckCounter implements KeySource: counters must strictly increase.
func (k *StaticKeys) CheckCounter(h Header) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if h.Counter <= k.last {
		return fmt.Errorf("%w: counter %d, last %d", ErrReplay, h.Counter, k.last)
	}
	k.last = h.Counter
	return nil
}

// LastCounter returns the highest counter accepted so far.
func (k *StaticKeys) LastCounter() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.last
}
