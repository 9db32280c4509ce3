package devicelink

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

var (
	meterIDPattern   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	commandIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,255}$`)
	e164Pattern      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// validateMeter checks a meter about to be registered.
func validateMeter(m Meter) error {
	if !meterIDPattern.MatchString(m.ID) {
		return fmt.Errorf("%w: meter id must be 1-64 characters of A-Z a-z 0-9 . _ -", ErrInvalid)
	}
	if m.SIMNumber != "" && !e164Pattern.MatchString(m.SIMNumber) {
		return fmt.Errorf("%w: sim_number must be E.164", ErrInvalid)
	}
	if len(m.Bays) == 0 {
		return fmt.Errorf("%w: a meter needs at least one bay", ErrInvalid)
	}
	seen := map[string]bool{}
	for _, b := range m.Bays {
		if b == "" || len(b) > 32 || hasControl(b) {
			return fmt.Errorf("%w: bad bay %q", ErrInvalid, b)
		}
		if seen[b] {
			return fmt.Errorf("%w: duplicate bay %q", ErrInvalid, b)
		}
		seen[b] = true
	}
	if len(m.Zone) > 64 || len(m.Location) > 256 || hasControl(m.Zone) || hasControl(m.Location) {
		return fmt.Errorf("%w: zone or location too long or not printable", ErrInvalid)
	}
	return nil
}

// CreateMeter registers m with a fresh random 32-byte master key, stored
// encrypted under the platform key, and returns the key: it is never
// readable again. KeyEpoch is set to 1; a zero CreatedAt to now. A meter id
// already registered gives ErrExists; a SIM number another meter has gives
// ErrSIMInUse.
func (s *Service) CreateMeter(ctx context.Context, m Meter) ([]byte, error) {
	if err := validateMeter(m); err != nil {
		return nil, err
	}
	claimed, err := s.claimSIM(ctx, m.SIMNumber, m.ID)
	if err != nil {
		return nil, err
	}
	key, stored, err := s.createMeter(ctx, m)
	if err != nil && claimed && !stored {
		// The claim must go even when ctx has ended.
		if rerr := s.releaseSIM(context.WithoutCancel(ctx), m.SIMNumber, m.ID); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return key, err
}

// claimSIM makes meterID the holder of a SIM number's index entry. It
// reports whether this call made the claim; an entry the meter already held
// (a registration that failed half-way) is kept and not reported. No number
// claims nothing.
func (s *Service) claimSIM(ctx context.Context, number, meterID string) (bool, error) {
	if number == "" {
		return false, nil
	}
	for range 3 {
		ok, err := s.rdb.SetNX(ctx, keySIM(number), meterID, 0).Result()
		if err != nil {
			return false, fmt.Errorf("devicelink: claim sim of meter %s: %w", meterID, err)
		}
		if ok {
			return true, nil
		}
		owner, err := s.rdb.Get(ctx, keySIM(number)).Result()
		if errors.Is(err, redis.Nil) {
			continue // released meanwhile: claim again
		}
		if err != nil {
			return false, fmt.Errorf("devicelink: sim of meter %s: %w", meterID, err)
		}
		if owner != meterID {
			return false, fmt.Errorf("%w: meter %s has it", ErrSIMInUse, owner)
		}
		return false, nil
	}
	return false, fmt.Errorf("devicelink: claim sim of meter %s: index keeps changing", meterID)
}

// releaseSIM drops a SIM number's index entry if meterID holds it. It is
// what removing a meter or changing its number must call for the old number.
func (s *Service) releaseSIM(ctx context.Context, number, meterID string) error {
	if number == "" {
		return nil
	}
	if err := scriptReleaseSIM.Run(ctx, s.rdb, []string{keySIM(number)}, meterID).Err(); err != nil {
		return fmt.Errorf("devicelink: release sim of meter %s: %w", meterID, err)
	}
	return nil
}

// createMeter stores a validated meter whose SIM number is claimed; stored
// reports whether its hash was written (a later step may still fail).
func (s *Service) createMeter(ctx context.Context, m Meter) (key []byte, stored bool, err error) {
	m.KeyEpoch = 1
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	key = make([]byte, KeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("devicelink: meter key: %w", err)
	}
	bays, err := json.Marshal(m.Bays)
	if err != nil {
		return nil, false, fmt.Errorf("devicelink: encode bays: %w", err)
	}
	// The meter list and the seen index are global keys, each in its own
	// hash slot, so they cannot change in the script that creates the
	// meter. They are written first, in one round trip: a crash after them
	// leaves entries naming no meter, which Meters skips and the sweep
	// drops, instead of a meter missing from the list for good. NX keeps
	// the entries of a meter that exists already as they are. A meter that
	// never connects is reported missing too, hence the seen entry.
	at := redis.Z{Score: float64(m.CreatedAt.UnixMilli()), Member: m.ID}
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAddNX(ctx, keyMeters, at)
		p.ZAddNX(ctx, keySeen, at)
		return nil
	}); err != nil {
		return nil, false, fmt.Errorf("devicelink: list meter %s: %w", m.ID, err)
	}
	created, err := scriptCreateMeter.Run(ctx, s.rdb, []string{keyMeter(m.ID)},
		"id", m.ID,
		"sim_number", m.SIMNumber,
		"zone", m.Zone,
		"location", m.Location,
		"bays", string(bays),
		"key_epoch", strconv.FormatUint(uint64(m.KeyEpoch), 10),
		"key_enc", s.sealMeterKey(m.ID, m.KeyEpoch, key),
		"created_at", formatTime(m.CreatedAt),
	).Int()
	if err != nil {
		return nil, false, fmt.Errorf("devicelink: create meter %s: %w", m.ID, err)
	}
	if created == 0 {
		return nil, false, fmt.Errorf("%w: meter %s", ErrExists, m.ID)
	}
	s.log.InfoContext(ctx, "meter registered", "meter", m.ID, "sim", maskNumber(m.SIMNumber), "bays", len(m.Bays))
	return key, true, nil
}

// keyAD binds a sealed meter key to its meter and epoch.
func keyAD(meterID string, epoch uint32) []byte {
	return []byte("ppp-devicelink-key|" + meterID + "|" + strconv.FormatUint(uint64(epoch), 10))
}

// sealMeterKey encrypts a meter master key under the platform key.
func (s *Service) sealMeterKey(meterID string, epoch uint32, key []byte) string {
	n := make([]byte, s.kek.NonceSize())
	if _, err := rand.Read(n); err != nil {
		panic("devicelink: random nonce: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(s.kek.Seal(n, n, key, keyAD(meterID, epoch)))
}

// openMeterKey decrypts a stored meter master key.
func (s *Service) openMeterKey(meterID string, epoch uint32, enc string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) < s.kek.NonceSize() {
		return nil, errors.New("devicelink: stored meter key is corrupt")
	}
	ns := s.kek.NonceSize()
	key, err := s.kek.Open(nil, raw[:ns], raw[ns:], keyAD(meterID, epoch))
	if err != nil {
		return nil, errors.New("devicelink: stored meter key does not open under the platform key")
	}
	return key, nil
}

// meterState is a meter's hash as stored.
type meterState struct {
	Meter
	keyEnc string
	fields map[string]string
}

// loadMeter reads a meter's hash; a missing meter gives ErrNotFound.
func (s *Service) loadMeter(ctx context.Context, id string) (meterState, error) {
	if !meterIDPattern.MatchString(id) {
		return meterState{}, fmt.Errorf("%w: meter %q", ErrNotFound, id)
	}
	f, err := s.rdb.HGetAll(ctx, keyMeter(id)).Result()
	if err != nil {
		return meterState{}, fmt.Errorf("devicelink: load meter %s: %w", id, err)
	}
	if len(f) == 0 {
		return meterState{}, fmt.Errorf("%w: meter %s", ErrNotFound, id)
	}
	ms := meterState{keyEnc: f["key_enc"], fields: f}
	ms.ID = f["id"]
	ms.SIMNumber = f["sim_number"]
	ms.Zone = f["zone"]
	ms.Location = f["location"]
	ms.CreatedAt = parseTime(f["created_at"])
	if ep, err := strconv.ParseUint(f["key_epoch"], 10, 32); err == nil {
		ms.KeyEpoch = uint32(ep)
	}
	if err := json.Unmarshal([]byte(f["bays"]), &ms.Bays); err != nil {
		return meterState{}, fmt.Errorf("devicelink: meter %s: corrupt bays: %w", id, err)
	}
	return ms, nil
}

// Meter returns a registered meter, or ErrNotFound.
func (s *Service) Meter(ctx context.Context, id string) (Meter, error) {
	ms, err := s.loadMeter(ctx, id)
	if err != nil {
		return Meter{}, err
	}
	return ms.Meter, nil
}

// Meters returns every registered meter in registration order.
func (s *Service) Meters(ctx context.Context) ([]Meter, error) {
	ids, err := s.rdb.ZRange(ctx, keyMeters, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: list meters: %w", err)
	}
	out := make([]Meter, 0, len(ids))
	for _, id := range ids {
		m, err := s.Meter(ctx, id)
		if errors.Is(err, ErrNotFound) {
			// Listed by a registration that failed (or is still under way):
			// the list is written before the meter.
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Meter) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}
