package devicelink_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
	"ppprenew/workflows/redistest"
)

// platformKey is the test platform key-encryption key.
var platformKey = bytes.Repeat([]byte{7}, devicelink.KeyLen)

type harness struct {
	t     *testing.T
	ctx   context.Context
	rdb   *redis.Client
	slots *redistest.ScriptKeys
	svc   *devicelink.Service
	sink  *devicelinktest.Sink
	clock *devicelinktest.Clock
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness with a changed configuration.
func newHarnessWith(t *testing.T, mutate func(*devicelink.Config)) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		ctx:   context.Background(),
		rdb:   redistest.Client(t, redistest.DBDeviceLink),
		sink:  devicelinktest.NewSink(),
		clock: devicelinktest.NewClock(time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)),
	}
	h.slots = checkSlots(t, h.rdb)
	cfg := devicelink.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := devicelink.NewService(h.rdb, cfg, platformKey, h.sink, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	return h
}

// testMeter speaks to the service directly through Exchange.
type testMeter struct {
	h     *harness
	id    string
	key   []byte
	codec *devicelink.MeterCodec
	head  string
	seq   uint64
}

// simOf is the SIM number the harness gives meter id: one number a meter.
func simOf(id string) string {
	f := fnv.New32a()
	f.Write([]byte(id))
	return fmt.Sprintf("+8529%07d", f.Sum32()%10_000_000)
}

func (h *harness) meter(id string, bays ...string) *testMeter {
	h.t.Helper()
	key, err := h.svc.CreateMeter(h.ctx, devicelink.Meter{ID: id, SIMNumber: simOf(id), Zone: "Z1", Location: "Queen's Rd", Bays: bays})
	if err != nil {
		h.t.Fatalf("CreateMeter: %v", err)
	}
	codec, err := devicelink.NewMeterCodec(id, 1, key, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return &testMeter{h: h, id: id, key: key, codec: codec}
}

// send exchanges one message and returns the opened reply.
func (m *testMeter) send(msg devicelink.MeterMessage) (devicelink.Reply, error) {
	env, _, err := m.codec.SealMessage(msg)
	if err != nil {
		return devicelink.Reply{}, err
	}
	out, err := m.h.svc.Exchange(m.h.ctx, env)
	if err != nil {
		return devicelink.Reply{}, err
	}
	r, _, err := m.codec.OpenReply(out)
	return r, err
}

func (m *testMeter) mustSend(msg devicelink.MeterMessage) devicelink.Reply {
	m.h.t.Helper()
	r, err := m.send(msg)
	if err != nil {
		m.h.t.Fatalf("exchange %s: %v", msg.Type, err)
	}
	return r
}

// next makes the meter's next chained record for bay.
func (m *testMeter) next(bay string, minutes int) devicelink.TxnRecord {
	m.seq++
	at := m.h.clock.Now()
	r := devicelink.Chain(m.head, devicelink.TxnRecord{
		Seq: m.seq, TxnID: fmt.Sprintf("%s-t%d", m.id, m.seq), Bay: bay, CardToken: "tok_visa_4242",
		AmountMinor: int64(minutes) * 10, Currency: "HKD",
		PaidAt: at.Format(time.RFC3339), PaidUntil: at.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339),
	})
	m.head = r.Hash
	return r
}

func upload(recs ...devicelink.TxnRecord) devicelink.MeterMessage {
	return devicelink.MeterMessage{Type: devicelink.MsgUpload, Records: recs}
}

var poll = devicelink.MeterMessage{Type: devicelink.MsgPoll}

func ackApplied(cmd devicelink.CommandMessage, paidUntil time.Time) devicelink.MeterMessage {
	return devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: []devicelink.AckMessage{{
		CommandID: cmd.CommandID, Status: devicelink.AckApplied, Bay: cmd.Bay, PaidUntil: paidUntil.Format(time.RFC3339),
	}}}
}

func (h *harness) state(id string) devicelink.CommandState {
	h.t.Helper()
	c, err := h.svc.Command(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Command(%s): %v", id, err)
	}
	return c.State
}

func (h *harness) renewal(id, meter, bay string, paidUntil time.Time) devicelink.RenewCommand {
	return devicelink.RenewCommand{CommandID: id, MeterID: meter, Bay: bay, TxnID: "pay-" + id, PaidUntil: paidUntil}
}

func commandIDs(cmds []devicelink.CommandMessage) []string {
	out := []string{}
	for _, c := range cmds {
		out = append(out, c.CommandID)
	}
	return out
}
