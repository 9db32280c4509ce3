package devicelink

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
)

// Envelope wire format, version 1 (stable; a change needs a new version):
//
//	offset  size  field
//	0       4     magic "PPPD"
//	4       1     version (1)
//	5       1     type (TypeMeter or TypePlatform)
//	6       4     key epoch, uint32 big-endian
//	10      8     counter, uint64 big-endian
//	18      1     meter id length n (1..255)
//	19      n     meter id bytes
//	19+n    ...   AES-256-GCM ciphertext of the JSON body, 16-byte tag last
//
// The whole header (bytes 0 .. 19+n) is the AEAD associated data, so altering
// any header byte fails authentication. The key is derived per meter, epoch
// and direction (DeriveKey); the 12-byte nonce is the 4-byte direction tag
// followed by the 8-byte counter, so a counter must never repeat under one key.

// Magic opens every envelope.
const Magic = "PPPD"

// Version is the only envelope version this package reads and writes.
const Version uint8 = 1

// Envelope types: the type fixes the direction and therefore the key.
const (
	// TypeMeter is an envelope sent by a meter to the platform (direction m2p).
	TypeMeter uint8 = 1
	// TypePlatform is an envelope sent by the platform to a meter (direction p2m).
	TypePlatform uint8 = 2
)

const (
	fixedHeaderLen = 19 // magic..meter id length
	gcmTagLen      = 16
	nonceLen       = 12
	// MaxMeterIDLen is the longest meter id an envelope can carry.
	MaxMeterIDLen = 255
)

// Header is the clear-text, authenticated part of an envelope.
type Header struct {
	// Version is the envelope version; Seal writes Version when zero.
	Version uint8
	// Type is TypeMeter or TypePlatform.
	Type uint8
	// Epoch is the meter's key epoch the envelope is sealed under.
	Epoch uint32
	// Counter is the sender's strictly increasing counter for this direction.
	Counter uint64
	// MeterID is the meter the envelope belongs to.
	MeterID string
}

// Direction returns the key direction implied by the header's type, or ""
// for an unknown type.
func (h Header) Direction() Direction {
	switch h.Type {
	case TypeMeter:
		return MeterToPlatform
	case TypePlatform:
		return PlatformToMeter
	}
	return ""
}

// KeySource supplies the key that opens an envelope and guards its counter.
type KeySource interface {
	// OpenKey returns the 32-byte AES key for the header's meter, epoch and
	// direction, or ErrUnknownMeter / ErrEpoch (or ErrMalformed for a
	// direction the receiver does not accept).
	OpenKey(h Header) ([]byte, error)
	// CheckCounter is called only after the envelope authenticated; it
	// records the counter and returns ErrReplay unless it is above the last
	// one accepted.
	CheckCounter(h Header) error
}

// appendHeader appends the encoded header to dst.
func appendHeader(dst []byte, h Header) []byte {
	dst = append(dst, Magic...)
	dst = append(dst, h.Version, h.Type)
	dst = binary.BigEndian.AppendUint32(dst, h.Epoch)
	dst = binary.BigEndian.AppendUint64(dst, h.Counter)
	dst = append(dst, byte(len(h.MeterID)))
	return append(dst, h.MeterID...)
}

// ParseHeader decodes the header at the start of data and returns it with its
// encoded length. It does not authenticate anything.
func ParseHeader(data []byte) (Header, int, error) {
	if len(data) < fixedHeaderLen {
		return Header{}, 0, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(data))
	}
	if string(data[:4]) != Magic {
		return Header{}, 0, fmt.Errorf("%w: bad magic", ErrMalformed)
	}
	h := Header{
		Version: data[4],
		Type:    data[5],
		Epoch:   binary.BigEndian.Uint32(data[6:10]),
		Counter: binary.BigEndian.Uint64(data[10:18]),
	}
	if h.Version != Version {
		return Header{}, 0, fmt.Errorf("%w: unsupported version %d", ErrMalformed, h.Version)
	}
	if h.Direction() == "" {
		return Header{}, 0, fmt.Errorf("%w: unknown type %d", ErrMalformed, h.Type)
	}
	n := int(data[18])
	if n == 0 {
		return Header{}, 0, fmt.Errorf("%w: empty meter id", ErrMalformed)
	}
	end := fixedHeaderLen + n
	if len(data) < end {
		return Header{}, 0, fmt.Errorf("%w: truncated meter id", ErrMalformed)
	}
	h.MeterID = string(data[fixedHeaderLen:end])
	return h, end, nil
}

// nonce builds the GCM nonce: direction tag then counter.
func nonce(d Direction, counter uint64) []byte {
	n := make([]byte, 0, nonceLen)
	n = append(n, d.tag()...)
	return binary.BigEndian.AppendUint64(n, counter)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts body under key and returns the complete envelope. A zero
// hdr.Version is written as Version.
//
// Seal panics if key is not 32 bytes, if the header's type is unknown or if
// the meter id is empty or longer than MaxMeterIDLen: these are programming
// errors, never input from the wire.
func Seal(key []byte, hdr Header, body []byte) []byte {
	if len(key) != KeyLen {
		panic(fmt.Sprintf("devicelink.Seal: key is %d bytes, want %d", len(key), KeyLen))
	}
	if hdr.Version == 0 {
		hdr.Version = Version
	}
	d := hdr.Direction()
	if d == "" || hdr.Version != Version {
		panic(fmt.Sprintf("devicelink.Seal: bad header version %d type %d", hdr.Version, hdr.Type))
	}
	if len(hdr.MeterID) == 0 || len(hdr.MeterID) > MaxMeterIDLen {
		panic(fmt.Sprintf("devicelink.Seal: meter id length %d", len(hdr.MeterID)))
	}
	aead, err := newGCM(key)
	if err != nil {
		panic("devicelink.Seal: " + err.Error())
	}
	out := appendHeader(make([]byte, 0, fixedHeaderLen+len(hdr.MeterID)+len(body)+gcmTagLen), hdr)
	return aead.Seal(out, nonce(d, hdr.Counter), body, out)
}

// Open parses, authenticates and decrypts an envelope. It asks keys for the
// key only after the header parsed, and checks the counter only after the
// envelope authenticated, so a forged envelope can never advance a counter.
// Errors wrap ErrMalformed, ErrUnknownMeter, ErrEpoch, ErrAuth or ErrReplay.
func Open(keys KeySource, data []byte) (Header, []byte, error) {
	h, n, err := ParseHeader(data)
	if err != nil {
		return Header{}, nil, err
	}
	if len(data)-n < gcmTagLen {
		return Header{}, nil, fmt.Errorf("%w: ciphertext shorter than the tag", ErrMalformed)
	}
	key, err := keys.OpenKey(h)
	if err != nil {
		return Header{}, nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return Header{}, nil, fmt.Errorf("%w: unusable key: %v", ErrAuth, err)
	}
	body, err := aead.Open(nil, nonce(h.Direction(), h.Counter), data[n:], data[:n])
	if err != nil {
		return Header{}, nil, fmt.Errorf("%w: %v", ErrAuth, err)
	}
	if err := keys.CheckCounter(h); err != nil {
		return Header{}, nil, err
	}
	return h, body, nil
}
