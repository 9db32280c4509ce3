// Package devicelinktest holds hand-written fakes for code that uses
// devicelink.
package devicelinktest

import (
	"context"
	"sync"

	"ppprenew/devicelink"
)

// Sink is a devicelink.Sink that records every call. Set failures with
// FailTransactions / FailAcks; a failing call is not recorded.
type Sink struct {
	mu       sync.Mutex
	txns     []devicelink.Transaction
	acks     []devicelink.Ack
	failures []devicelink.CommandRecord
	failErr  error
	failFail int
	txnErr   error
	ackErr   error
	txnFail  int
	ackFail  int
	changed  chan struct{}
}

var (
	_ devicelink.Sink        = (*Sink)(nil)
	_ devicelink.FailureSink = (*Sink)(nil)
)

// NewSink returns an empty recording sink.
func NewSink() *Sink { return &Sink{changed: make(chan struct{})} }

// TransactionRecorded implements devicelink.Sink.
func (s *Sink) TransactionRecorded(_ context.Context, t devicelink.Transaction) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txnFail > 0 {
		s.txnFail--
		return s.txnErr
	}
	s.txns = append(s.txns, t)
	s.notifyLocked()
	return nil
}

// CommandAcked implements devicelink.Sink.
func (s *Sink) CommandAcked(_ context.Context, a devicelink.Ack) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ackFail > 0 {
		s.ackFail--
		return s.ackErr
	}
	s.acks = append(s.acks, a)
	s.notifyLocked()
	return nil
}

// CommandFailed implements devicelink.FailureSink.
func (s *Sink) CommandFailed(_ context.Context, c devicelink.CommandRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failFail > 0 {
		s.failFail--
		return s.failErr
	}
	s.failures = append(s.failures, c)
	s.notifyLocked()
	return nil
}

// FailFailures makes the next n CommandFailed calls return err.
func (s *Sink) FailFailures(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFail, s.failErr = n, err
}

// Failures returns the recorded failed commands in call order.
func (s *Sink) Failures() []devicelink.CommandRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]devicelink.CommandRecord(nil), s.failures...)
}

func (s *Sink) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Changed returns a channel closed at the next recorded call.
func (s *Sink) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// FailTransactions makes the next n TransactionRecorded calls return err.
func (s *Sink) FailTransactions(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txnFail, s.txnErr = n, err
}

// FailAcks makes the next n CommandAcked calls return err.
func (s *Sink) FailAcks(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ackFail, s.ackErr = n, err
}

// Transactions returns the recorded transactions in call order.
func (s *Sink) Transactions() []devicelink.Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]devicelink.Transaction(nil), s.txns...)
}

// Acks returns the recorded acks in call order.
func (s *Sink) Acks() []devicelink.Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]devicelink.Ack(nil), s.acks...)
}

// WaitFor blocks until cond holds or ctx ends, and reports whether cond held.
func (s *Sink) WaitFor(ctx context.Context, cond func(txns []devicelink.Transaction, acks []devicelink.Ack) bool) bool {
	for {
		ch := s.Changed()
		if cond(s.Transactions(), s.Acks()) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}
