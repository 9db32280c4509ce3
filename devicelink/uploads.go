package devicelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// handleUpload verifies and stores uploaded records. Records are taken in
// sequence order; the first invalid one (bad fields, or a hash that does not
// match its own fields) and everything after it is refused, and so is
// everything from a gap or a break in the chain on.
func (s *Service) handleUpload(ctx context.Context, ms meterState, records []TxnRecord) (UploadResult, error) {
	recs := slices.Clone(records)
	slices.SortStableFunc(recs, func(a, b TxnRecord) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	recs = slices.CompactFunc(recs, func(a, b TxnRecord) bool { return a.Seq == b.Seq })
	if len(recs) > s.cfg.MaxRecordsPerUpload {
		recs = recs[:s.cfg.MaxRecordsPerUpload]
	}

	var res UploadResult
	valid := recs
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			res.Error, res.RejectedSeq = UploadErrInvalid, r.Seq
			valid = recs[:i]
			break
		}
		if !r.HashOK() {
			res.Error, res.RejectedSeq = UploadErrChain, r.Seq
			valid = recs[:i]
			break
		}
	}

	args := []any{GenesisHash, len(valid)}
	for _, r := range valid {
		raw, err := json.Marshal(r)
		if err != nil {
			return UploadResult{}, fmt.Errorf("devicelink: encode record: %w", err)
		}
		paidAt, _ := time.Parse(time.RFC3339, r.PaidAt)
		paidUntil, _ := time.Parse(time.RFC3339, r.PaidUntil)
		bay := BayState{Bay: r.Bay, PaidUntil: paidUntil.UTC(), Source: BaySourceUpload, Ref: r.TxnID, AtMS: paidAt.UnixMilli()}
		args = append(args, strconv.FormatUint(r.Seq, 10), r.TxnID, r.PrevHash, r.Hash, string(raw), r.Bay, bayJSON(bay))
	}
	out, err := scriptUpload.Run(ctx, s.rdb,
		[]string{keyMeter(ms.ID), keyTxn(ms.ID), keyTxnIDs(ms.ID), keyBays(ms.ID)}, args...).Slice()
	if err != nil {
		return UploadResult{}, fmt.Errorf("devicelink: store upload of %s: %w", ms.ID, err)
	}
	code, _ := out[0].(string)
	head, _ := out[1].(int64)
	resend, _ := out[2].(int64)
	bad, _ := out[3].(int64)
	stored, _ := out[4].(int64)
	s.metrics.stored(int(stored))
	res.AcceptedThrough = uint64(head)
	log := s.log.With("meter", ms.ID)
	switch code {
	case "ok":
	case "gap":
		res.Error, res.RejectedSeq = "", 0
		res.ResendFrom = uint64(resend)
		log.WarnContext(ctx, "upload gap, asking for resend", "head", head, "got", bad)
	default:
		res.Error, res.RejectedSeq = code, uint64(bad)
	}
	if res.Error != "" {
		log.WarnContext(ctx, "upload record refused", "error", res.Error, "seq", res.RejectedSeq, "head", head)
	}
	if stored > 0 {
		log.InfoContext(ctx, "records stored", "count", stored, "head", head)
	}
	return res, nil
}

// flushRecords passes stored records the Sink has not taken yet, in order,
// and returns the sequence number the Sink holds everything through. A Sink
// error stops the flush; the next exchange with the meter tries again.
func (s *Service) flushRecords(ctx context.Context, ms meterState) (uint64, error) {
	vals, err := s.rdb.HMGet(ctx, keyMeter(ms.ID), "chain_seq", "sink_seq").Result()
	if err != nil {
		return 0, fmt.Errorf("devicelink: sink state of %s: %w", ms.ID, err)
	}
	head, sink := hashUint(vals[0]), hashUint(vals[1])
	if sink >= head {
		return sink, nil
	}
	end := min(head, sink+uint64(s.cfg.SinkBatch))
	fields := make([]string, 0, end-sink)
	for seq := sink + 1; seq <= end; seq++ {
		fields = append(fields, strconv.FormatUint(seq, 10))
	}
	raws, err := s.rdb.HMGet(ctx, keyTxn(ms.ID), fields...).Result()
	if err != nil {
		return sink, fmt.Errorf("devicelink: stored records of %s: %w", ms.ID, err)
	}
	for _, raw := range raws {
		seq := sink + 1
		str, ok := raw.(string)
		var r TxnRecord
		if !ok || json.Unmarshal([]byte(str), &r) != nil {
			return sink, fmt.Errorf("devicelink: stored record %s/%d is missing or corrupt", ms.ID, seq)
		}
		if err := s.sink.TransactionRecorded(ctx, toTransaction(ms.Meter, r)); err != nil {
			s.metrics.sinkError("transaction")
			s.log.WarnContext(ctx, "sink refused transaction, will retry", "meter", ms.ID, "seq", seq, "err", err)
			return sink, nil
		}
		moved, err := scriptAdvanceSink.Run(ctx, s.rdb, []string{keyMeter(ms.ID)},
			strconv.FormatUint(sink, 10), strconv.FormatUint(seq, 10)).Int()
		if err != nil {
			return sink, fmt.Errorf("devicelink: advance sink of %s: %w", ms.ID, err)
		}
		if moved == 0 {
			// Another exchange of the same meter is flushing; it owns the rest.
			cur, err := s.rdb.HGet(ctx, keyMeter(ms.ID), "sink_seq").Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return sink, fmt.Errorf("devicelink: sink state of %s: %w", ms.ID, err)
			}
			return hashUint(cur), nil
		}
		sink = seq
	}
	return sink, nil
}

// hashUint reads a decimal hash field returned by HMGET/HGET (nil -> 0).
func hashUint(v any) uint64 {
	s, _ := v.(string)
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// toTransaction turns a stored record into the Sink's Transaction.
func toTransaction(m Meter, r TxnRecord) Transaction {
	paidAt, _ := time.Parse(time.RFC3339, r.PaidAt)
	paidUntil, _ := time.Parse(time.RFC3339, r.PaidUntil)
	return Transaction{
		MeterID:     m.ID,
		Zone:        m.Zone,
		Location:    m.Location,
		Bay:         r.Bay,
		TxnID:       r.TxnID,
		CardToken:   r.CardToken,
		Currency:    r.Currency,
		AmountMinor: r.AmountMinor,
		PaidAt:      paidAt,
		PaidUntil:   paidUntil,
		Seq:         r.Seq,
	}
}
