package devicelink

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// wrapInfo is the HKDF info prefix of the key-wrapping key.
const wrapInfo = "wrap|"

// wrapKey derives the key that wraps a meter's next master key: HKDF-SHA256
// of the current master key, salt "ppp-devicelink-v1", info
// "wrap|<current epoch>|<meter id>".
func wrapKey(current []byte, epoch uint32, meterID string) ([]byte, error) {
	if len(current) != KeyLen {
		return nil, fmt.Errorf("%w: master key is %d bytes, want %d", ErrInvalid, len(current), KeyLen)
	}
	return hkdf.Key(sha256.New, current, []byte(hkdfSalt), wrapInfo+strconv.FormatUint(uint64(epoch), 10)+"|"+meterID, KeyLen)
}

// wrapAD binds a wrapped key to its meter and new epoch.
func wrapAD(meterID string, newEpoch uint32) []byte {
	return []byte("ppp-devicelink-rotate|" + meterID + "|" + strconv.FormatUint(uint64(newEpoch), 10))
}

// WrapKey seals a meter's next master key (epoch newEpoch) under its current
// master key (epoch newEpoch-1) with AES-256-GCM and returns base64 of
// nonce || ciphertext. The platform uses it for rotate_key commands; tests
// and meters use UnwrapKey.
func WrapKey(current []byte, meterID string, newEpoch uint32, next []byte) (string, error) {
	if newEpoch < 2 {
		return "", fmt.Errorf("%w: new epoch %d", ErrInvalid, newEpoch)
	}
	if len(next) != KeyLen {
		return "", fmt.Errorf("%w: next key is %d bytes", ErrInvalid, len(next))
	}
	k, err := wrapKey(current, newEpoch-1, meterID)
	if err != nil {
		return "", err
	}
	aead, err := newGCM(k)
	if err != nil {
		return "", fmt.Errorf("devicelink: wrap key: %w", err)
	}
	n := make([]byte, aead.NonceSize())
	if _, err := rand.Read(n); err != nil {
		return "", fmt.Errorf("devicelink: wrap nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(n, n, next, wrapAD(meterID, newEpoch))), nil
}

// UnwrapKey opens a rotate_key command's WrappedKey with the meter's current
// master key; it fails with ErrAuth if the key was not wrapped for this
// meter, epoch and current key.
func UnwrapKey(current []byte, meterID string, newEpoch uint32, wrapped string) ([]byte, error) {
	if newEpoch < 2 {
		return nil, fmt.Errorf("%w: new epoch %d", ErrInvalid, newEpoch)
	}
	raw, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil {
		return nil, fmt.Errorf("%w: wrapped key is not base64", ErrMalformed)
	}
	k, err := wrapKey(current, newEpoch-1, meterID)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(k)
	if err != nil {
		return nil, fmt.Errorf("devicelink: unwrap key: %w", err)
	}
	ns := aead.NonceSize()
	if len(raw) < ns+gcmTagLen {
		return nil, fmt.Errorf("%w: wrapped key too short", ErrMalformed)
	}
	next, err := aead.Open(nil, raw[:ns], raw[ns:], wrapAD(meterID, newEpoch))
	if err != nil {
		return nil, fmt.Errorf("%w: wrapped key: %v", ErrAuth, err)
	}
	return next, nil
}

// RotateKey starts a key rotation for a meter: it stages a fresh master key
// for epoch current+1 (stored encrypted under the platform key) and enqueues
// a rotate_key command carrying it wrapped under the current key, then arms
// the meter's wake timer. The platform makes the new key current when the
// meter first seals a message under it; the old epoch is then accepted for
// Config.OldEpochWindow more. It returns the command id; while a rotation is
// staged it returns that rotation's command id. Unknown meter: ErrNotFound.
func (s *Service) RotateKey(ctx context.Context, meterID string) (string, error) {
	ms, err := s.loadMeter(ctx, meterID)
	if err != nil {
		return "", err
	}
	now := s.now()
	next := make([]byte, KeyLen)
	if _, err := rand.Read(next); err != nil {
		return "", fmt.Errorf("devicelink: new meter key: %w", err)
	}
	epoch := ms.KeyEpoch + 1
	seq, err := s.rdb.HIncrBy(ctx, keyMeter(meterID), "rotate_seq", 1).Result()
	if err != nil {
		return "", fmt.Errorf("devicelink: rotate %s: %w", meterID, err)
	}
	cmdID := fmt.Sprintf("rotate:%s:e%d:%d", meterID, epoch, seq)
	res, err := scriptRotateBegin.Run(ctx, s.rdb, []string{keyMeter(meterID)},
		epoch, s.sealMeterKey(meterID, epoch, next), cmdID).Slice()
	if err != nil {
		return "", fmt.Errorf("devicelink: rotate %s: %w", meterID, err)
	}
	staged, _ := res[0].(int64)
	stagedCmd, _ := res[1].(string)
	if staged < 0 {
		return "", fmt.Errorf("%w: meter %s", ErrNotFound, meterID)
	}
	if stagedCmd != cmdID {
		_, err := s.loadCommand(ctx, meterID, stagedCmd)
		if !errors.Is(err, ErrNotFound) {
			return stagedCmd, err
		}
		// Staged by a call that stopped before storing its command.
		if err := scriptDropNextKey.Run(ctx, s.rdb, []string{keyMeter(meterID)}, stagedCmd).Err(); err != nil {
			return "", fmt.Errorf("devicelink: rotate %s: %w", meterID, err)
		}
		return s.RotateKey(ctx, meterID)
	}
	current, err := s.openMeterKey(meterID, ms.KeyEpoch, ms.keyEnc)
	if err != nil {
		return "", err
	}
	wrapped, err := WrapKey(current, meterID, epoch, next)
	if err != nil {
		return "", err
	}
	c := storedCommand{
		RenewCommand: RenewCommand{CommandID: cmdID, MeterID: meterID, NotAfter: now.Add(s.cfg.CommandTTL)},
		Type:         CommandRotateKey, KeyEpoch: epoch, WrappedKey: wrapped,
	}
	if _, err := s.storeCommand(ctx, c, now); err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "key rotation started", "meter", meterID, "epoch", epoch, "command", cmdID)
	return cmdID, s.armWake(ctx, meterID, now.Add(s.cfg.WakeBatchWindow))
}

// promoteKey makes the staged key of epoch current once the meter used it.
func (s *Service) promoteKey(ctx context.Context, ms *meterState, epoch uint32) error {
	until := s.now().Add(s.cfg.OldEpochWindow)
	n, err := scriptPromoteKey.Run(ctx, s.rdb, []string{keyMeter(ms.ID)}, epoch, until.UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("devicelink: promote key of %s: %w", ms.ID, err)
	}
	if n == 1 {
		ms.KeyEpoch = epoch
		s.metrics.keyRotated()
		s.log.InfoContext(ctx, "meter key rotated", "meter", ms.ID, "epoch", epoch,
			"old_epoch_until", until.UTC().Format(time.RFC3339))
	}
	return nil
}
