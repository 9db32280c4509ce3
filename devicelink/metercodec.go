package devicelink

import (
	"encoding/json"
	"fmt"
	"sync"
)

// MeterCodec is the meter's side of the envelope protocol: it seals meter
// messages under the m2p key with a strictly increasing counter and opens
// platform replies under the p2m key, refusing replayed reply counters. A
// meter's firmware and the simulated meters share it so both ends speak one
// protocol. It is safe for concurrent use, but a meter must send its
// envelopes one at a time, in counter order.
type MeterCodec struct {
	meterID string
	epoch   uint32
	sendKey []byte
	replies *StaticKeys

	mu      sync.Mutex
	counter uint64
}

// NewMeterCodec builds the codec of a meter from its master key. lastCounter
// is the last m2p counter the meter used (0 for a new meter); the next
// message uses lastCounter+1.
func NewMeterCodec(meterID string, epoch uint32, master []byte, lastCounter uint64) (*MeterCodec, error) {
	if len(meterID) == 0 || len(meterID) > MaxMeterIDLen {
		return nil, fmt.Errorf("%w: meter id length %d", ErrInvalid, len(meterID))
	}
	send, err := DeriveKey(master, MeterToPlatform, epoch, meterID)
	if err != nil {
		return nil, err
	}
	return &MeterCodec{
		meterID: meterID,
		epoch:   epoch,
		sendKey: send,
		replies: &StaticKeys{MeterID: meterID, Epoch: epoch, Master: append([]byte(nil), master...), Direction: PlatformToMeter},
		counter: lastCounter,
	}, nil
}

// SealMessage encodes msg and seals it with the next counter, which it
// returns.
func (c *MeterCodec) SealMessage(msg MeterMessage) ([]byte, uint64, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, 0, fmt.Errorf("devicelink: encode message: %w", err)
	}
	c.mu.Lock()
	c.counter++
	ctr, key, epoch := c.counter, c.sendKey, c.epoch
	c.mu.Unlock()
	return Seal(key, Header{Type: TypeMeter, Epoch: epoch, Counter: ctr, MeterID: c.meterID}, body), ctr, nil
}

// OpenReply authenticates and decodes a platform reply.
func (c *MeterCodec) OpenReply(data []byte) (Reply, Header, error) {
	c.mu.Lock()
	replies := c.replies
	c.mu.Unlock()
	h, body, err := Open(replies, data)
	if err != nil {
		return Reply{}, Header{}, err
	}
	var r Reply
	if err := json.Unmarshal(body, &r); err != nil {
		return Reply{}, Header{}, fmt.Errorf("%w: reply body: %v", ErrMalformed, err)
	}
	return r, h, nil
}

// Rekey switches the codec to a new master key and key epoch (after a
// rotate_key command), keeping both counters: later messages are sealed, and
// replies expected, under the new key.
func (c *MeterCodec) Rekey(epoch uint32, master []byte) error {
	send, err := DeriveKey(master, MeterToPlatform, epoch, c.meterID)
	if err != nil {
		return err
	}
	last := c.replies.LastCounter()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch, c.sendKey = epoch, send
	c.replies = &StaticKeys{MeterID: c.meterID, Epoch: epoch, Master: append([]byte(nil), master...), Direction: PlatformToMeter, last: last}
	return nil
}

// Epoch returns the key epoch the codec seals under.
func (c *MeterCodec) Epoch() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Counters returns the last counter sent and the last reply counter accepted.
func (c *MeterCodec) Counters() (sent, received uint64) {
	c.mu.Lock()
	sent, replies := c.counter, c.replies
	c.mu.Unlock()
	return sent, replies.LastCounter()
}
