package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ppprenew/devicelink"
	"ppprenew/push"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/twiliohook"
)

// deviceSink feeds what meters report into the conversations.
type deviceSink struct{ runner *workflows.Runner }

var _ devicelink.Sink = (*deviceSink)(nil)

func (s *deviceSink) TransactionRecorded(ctx context.Context, t devicelink.Transaction) error {
	_, err := s.runner.RecordPayment(ctx, engine.PaymentInput{
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
	_, err := s.runner.Apply(ctx, conv, engine.Input{Kind: engine.InputMeterAck, Ack: &engine.AckInput{
		CommandID: a.CommandID, Applied: a.Applied, PaidUntil: a.PaidUntil, Reason: a.Reason,
	}})
	if errors.Is(err, workflows.ErrNotFound) {
		return nil
	}
	return err
}

// CommandFailed tells the conversation that its renewal never reached the
// meter (expired, failed, cancelled): the central record stands.
func (s *deviceSink) CommandFailed(ctx context.Context, c devicelink.CommandRecord) error {
	conv, _, ok := strings.Cut(c.CommandID, ":renew:")
	if !ok {
		return nil
	}
	_, err := s.runner.Apply(ctx, conv, engine.Input{Kind: engine.InputMeterAck, Ack: &engine.AckInput{
		CommandID: c.CommandID, Applied: false, Reason: "not delivered: " + string(c.State),
	}})
	if errors.Is(err, workflows.ErrNotFound) {
		return nil
	}
	return err
}

var _ devicelink.FailureSink = (*deviceSink)(nil)

// wakeStatus reports the outcome of a wake call (the meter refusing it shows
// as busy) to the device link. Mounted behind the signature check.
func wakeStatus(devices *devicelink.Service, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		f := twiliohook.Form(c)
		err := devices.CallStatus(c.Request().Context(), c.QueryParam(devicelink.WakeAttemptParam), f.Get("CallSid"), f.Get("CallStatus"))
		switch {
		case errors.Is(err, devicelink.ErrNotFound), errors.Is(err, devicelink.ErrInvalid):
			log.Warn("wake status for no known attempt", "attempt", c.QueryParam(devicelink.WakeAttemptParam), "err", err)
			return c.NoContent(http.StatusNoContent)
		case err != nil:
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// issueAppToken gives a registered driver a bearer token for the app API
// (shown once; only its hash is stored).
func issueAppToken(api *push.AppAPI, reg *workflows.Registry) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u, err := reg.User(ctx, c.Param("id"))
		if errors.Is(err, workflows.ErrNotFound) {
			return c.JSON(http.StatusNotFound, map[string]any{"error": map[string]string{"code": "not_found", "message": "no such user"}})
		} else if err != nil {
			return err
		}
		tok, err := api.IssueToken(ctx, u.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, map[string]string{"user_id": u.ID, "token": tok})
	}
}

// meterCommander sends renewals down the device link.
type meterCommander struct{ devices *devicelink.Service }

var _ workflows.MeterCommander = (*meterCommander)(nil)

func (m *meterCommander) Renew(ctx context.Context, r engine.MeterEffect) error {
	return m.devices.EnqueueRenewal(ctx, devicelink.RenewCommand{
		CommandID: r.CommandID, MeterID: r.MeterID, Bay: r.Bay, TxnID: r.TxnID, PaidUntil: r.PaidUntil, NotAfter: r.PaidUntil,
	})
}

// securityAlerts lists the device link's security alerts with the
// conversations' operator alerts.
type securityAlerts struct{ registry *workflows.Registry }

var _ devicelink.AlertSink = (*securityAlerts)(nil)

func (s *securityAlerts) RaiseSecurityAlert(ctx context.Context, a devicelink.SecurityAlert) error {
	return s.registry.RaiseAlert(ctx, a.ID, workflows.Alert{At: a.At, Meter: a.MeterID,
		AlertEffect: engine.AlertEffect{Code: a.Code, Message: a.Message}})
}
