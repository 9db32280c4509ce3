package main

import (
	"context"
	"errors"
	"strings"

	"ppprenew/devicelink"
	"ppprenew/workflows"
)

// deviceSink feeds what meters report into the conversations.
type deviceSink struct{ runner *workflows.Runner }

var _ devicelink.Sink = (*deviceSink)(nil)

func (s *deviceSink) TransactionRecorded(ctx context.Context, t devicelink.Transaction) error {
	_, err := s.runner.RecordPayment(ctx, workflows.PaymentInput{
		TxnID: t.TxnID, MeterID: t.MeterID, Bay: t.Bay, Zone: t.Zone, Location: t.Location,
		CardToken: t.CardToken, PaidAt: t.PaidAt, PaidUntil: t.PaidUntil,
	})
	return err
}

func (s *deviceSink) CommandAcked(ctx context.Context, a devicelink.Ack) error {
	conv, _, ok := strings.Cut(a.CommandID, ":renew:")
	if !ok {
		return nil // not a conversation's command
	}
	_, err := s.runner.Apply(ctx, conv, workflows.Input{Kind: workflows.InputMeterAck, Ack: &workflows.AckInput{
		CommandID: a.CommandID, Applied: a.Applied, PaidUntil: a.PaidUntil, Reason: a.Reason,
	}})
	if errors.Is(err, workflows.ErrNotFound) {
		return nil
	}
	return err
}

// meterCommander sends renewals down the device link.
type meterCommander struct{ devices *devicelink.Service }

var _ workflows.MeterCommander = (*meterCommander)(nil)

func (m *meterCommander) Renew(ctx context.Context, r workflows.MeterEffect) error {
	return m.devices.EnqueueRenewal(ctx, devicelink.RenewCommand{
		CommandID: r.CommandID, MeterID: r.MeterID, Bay: r.Bay, TxnID: r.TxnID, PaidUntil: r.PaidUntil, NotAfter: r.PaidUntil,
	})
}
