package devicelink_test

import (
	"errors"
	"testing"
	"time"

	"ppprenew/devicelink"
)

func TestUploadRecordsOnceInOrder(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12", "13")
	r1, r2, r3 := m.next("12", 60), m.next("13", 30), m.next("12", 90)

	rep := m.mustSend(upload(r1, r2))
	if rep.Upload == nil || rep.Upload.AcceptedThrough != 2 || rep.Upload.ResendFrom != 0 || rep.Upload.Error != "" {
		t.Fatalf("upload result = %+v", rep.Upload)
	}
	// The same records again (a lost reply) plus a new one: only r3 is new.
	rep = m.mustSend(upload(r1, r2, r3))
	if rep.Upload.AcceptedThrough != 3 {
		t.Fatalf("accepted_through = %d, want 3", rep.Upload.AcceptedThrough)
	}
	m.mustSend(upload(r3))

	txns := h.sink.Transactions()
	if len(txns) != 3 {
		t.Fatalf("sink got %d transactions, want 3: %+v", len(txns), txns)
	}
	for i, tx := range txns {
		if tx.Seq != uint64(i+1) || tx.MeterID != "M-1" || tx.Zone != "Z1" || tx.Location != "Queen's Rd" {
			t.Errorf("txn %d = %+v", i, tx)
		}
	}
	if txns[0].TxnID != r1.TxnID || txns[0].AmountMinor != 600 || txns[0].Currency != "HKD" ||
		!txns[0].PaidUntil.Equal(h.clock.Now().Add(time.Hour)) || txns[0].CardToken != r1.CardToken {
		t.Errorf("txn 1 = %+v", txns[0])
	}

	st, err := h.svc.Status(h.ctx, "M-1")
	if err != nil {
		t.Fatal(err)
	}
	if st.ChainSeq != 3 || st.SinkSeq != 3 {
		t.Errorf("chain %d sink %d", st.ChainSeq, st.SinkSeq)
	}
	// Bay 12 shows the later payment (r3 has the same paid_at as r1; the
	// later record in the chain wins the tie).
	if st.Bays[0].Bay != "12" || st.Bays[0].Source != devicelink.BaySourceUpload || st.Bays[0].Ref != r3.TxnID {
		t.Errorf("bay 12 = %+v", st.Bays[0])
	}
}

func TestUploadGapAsksForResend(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	r1, r2, r3 := m.next("12", 10), m.next("12", 10), m.next("12", 10)
	m.mustSend(upload(r1))

	rep := m.mustSend(upload(r3))
	if rep.Upload.ResendFrom != 2 || rep.Upload.AcceptedThrough != 1 {
		t.Fatalf("gap result = %+v, want resend_from 2, accepted_through 1", rep.Upload)
	}
	// Nothing past the gap was taken, even in the same message.
	rep = m.mustSend(upload(r3, r1))
	if rep.Upload.ResendFrom != 2 || len(h.sink.Transactions()) != 1 {
		t.Fatalf("after second gap: %+v, %d txns", rep.Upload, len(h.sink.Transactions()))
	}
	rep = m.mustSend(upload(r2, r3))
	if rep.Upload.ResendFrom != 0 || rep.Upload.AcceptedThrough != 3 || len(h.sink.Transactions()) != 3 {
		t.Fatalf("after resend: %+v, %d txns", rep.Upload, len(h.sink.Transactions()))
	}
}

func TestUploadRefusesBrokenChain(t *testing.T) {
	tests := []struct {
		name    string
		records func(m *testMeter) []devicelink.TxnRecord
		want    string
		bad     uint64
	}{
		{"field changed after hashing", func(m *testMeter) []devicelink.TxnRecord {
			r1, r2 := m.next("12", 10), m.next("12", 10)
			r2.AmountMinor = 1
			return []devicelink.TxnRecord{r1, r2}
		}, devicelink.UploadErrChain, 2},
		{"rehashed but not linked", func(m *testMeter) []devicelink.TxnRecord {
			r1, r2 := m.next("12", 10), m.next("12", 10)
			r2 = devicelink.Chain(devicelink.GenesisHash, r2)
			return []devicelink.TxnRecord{r1, r2}
		}, devicelink.UploadErrChain, 2},
		{"duplicate txn id", func(m *testMeter) []devicelink.TxnRecord {
			r1 := m.next("12", 10)
			r2 := m.next("12", 10)
			r2.TxnID = r1.TxnID
			r2 = devicelink.Chain(r1.Hash, r2)
			return []devicelink.TxnRecord{r1, r2}
		}, devicelink.UploadErrDuplicateTxn, 2},
		{"invalid field", func(m *testMeter) []devicelink.TxnRecord {
			r1, r2 := m.next("12", 10), m.next("12", 10)
			r2.PaidAt = "soon"
			return []devicelink.TxnRecord{r1, r2}
		}, devicelink.UploadErrInvalid, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			m := h.meter("M-1", "12")
			rep := m.mustSend(upload(tc.records(m)...))
			if rep.Upload.Error != tc.want || rep.Upload.RejectedSeq != tc.bad || rep.Upload.AcceptedThrough != 1 {
				t.Fatalf("result = %+v, want error %s at %d, accepted_through 1", rep.Upload, tc.want, tc.bad)
			}
			if txns := h.sink.Transactions(); len(txns) != 1 || txns[0].Seq != 1 {
				t.Errorf("sink got %+v, want only seq 1", txns)
			}
		})
	}
}

func TestUploadRefusesRewrittenHistory(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	r1 := m.next("12", 10)
	m.mustSend(upload(r1))
	forged := r1
	forged.AmountMinor = 1
	forged = devicelink.Chain(devicelink.GenesisHash, forged)
	rep := m.mustSend(upload(forged))
	if rep.Upload.Error != devicelink.UploadErrConflict || rep.Upload.RejectedSeq != 1 {
		t.Fatalf("result = %+v, want conflict at 1", rep.Upload)
	}
	if txns := h.sink.Transactions(); len(txns) != 1 || txns[0].AmountMinor != r1.AmountMinor {
		t.Errorf("sink = %+v", txns)
	}
}

func TestSinkFailureIsRetriedAtNextExchange(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	r1, r2 := m.next("12", 10), m.next("12", 10)
	h.sink.FailTransactions(1, errors.New("ledger down"))

	rep := m.mustSend(upload(r1, r2))
	if rep.Upload.AcceptedThrough != 0 {
		t.Fatalf("accepted_through = %d, want 0 while the sink fails", rep.Upload.AcceptedThrough)
	}
	if len(h.sink.Transactions()) != 0 {
		t.Fatal("sink recorded a failed call")
	}
	// The meter resends (it must keep unaccepted records); the stored copies
	// are passed on once each.
	rep = m.mustSend(upload(r1, r2))
	if rep.Upload.AcceptedThrough != 2 || len(h.sink.Transactions()) != 2 {
		t.Fatalf("after retry: %+v, %d txns", rep.Upload, len(h.sink.Transactions()))
	}
	m.mustSend(poll)
	if n := len(h.sink.Transactions()); n != 2 {
		t.Errorf("sink got %d transactions, want 2", n)
	}
}

func TestReplayAndForgeryThroughExchange(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	env, _, _ := m.codec.SealMessage(upload(m.next("12", 10)))
	if _, err := h.svc.Exchange(h.ctx, env); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Exchange(h.ctx, env); !errors.Is(err, devicelink.ErrReplay) {
		t.Fatalf("replay: err = %v, want ErrReplay", err)
	}
	// A forged envelope with a huge counter must not burn the counter space.
	forgedCodec, _ := devicelink.NewMeterCodec("M-1", 1, make([]byte, 32), 1<<40)
	forged, _, _ := forgedCodec.SealMessage(poll)
	if _, err := h.svc.Exchange(h.ctx, forged); !errors.Is(err, devicelink.ErrAuth) {
		t.Fatalf("forged: err = %v, want ErrAuth", err)
	}
	m.mustSend(poll)
	// Wrong epoch and unknown meter.
	epoch2, _ := devicelink.NewMeterCodec("M-1", 2, m.key, 100)
	e2, _, _ := epoch2.SealMessage(poll)
	if _, err := h.svc.Exchange(h.ctx, e2); !errors.Is(err, devicelink.ErrEpoch) {
		t.Errorf("epoch 2: err = %v, want ErrEpoch", err)
	}
	ghost, _ := devicelink.NewMeterCodec("M-9", 1, m.key, 0)
	g, _, _ := ghost.SealMessage(poll)
	if _, err := h.svc.Exchange(h.ctx, g); !errors.Is(err, devicelink.ErrUnknownMeter) {
		t.Errorf("unknown meter: err = %v, want ErrUnknownMeter", err)
	}
	if n := len(h.sink.Transactions()); n != 1 {
		t.Errorf("sink got %d transactions, want 1", n)
	}
}

func TestAuthenticatedGarbageIsMalformed(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	if _, err := m.send(devicelink.MeterMessage{Type: "reboot"}); !errors.Is(err, devicelink.ErrMalformed) {
		t.Errorf("unknown message type: err = %v, want ErrMalformed", err)
	}
}
