package devicelink

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// MeterStatus is what the platform knows about a meter.
type MeterStatus struct {
	// Meter is the registered profile.
	Meter Meter `json:"meter"`
	// Bays are the bays' last known paid-until times (from uploads and acks).
	Bays []BayState `json:"bays"`
	// LastSeen is the time of the meter's last authenticated exchange.
	LastSeen time.Time `json:"last_seen,omitzero"`
	// LastMessage is the type of that exchange's message.
	LastMessage string `json:"last_message,omitempty"`
	// LastHelloAt is the time of the last hello; LastReason its reason.
	LastHelloAt time.Time `json:"last_hello_at,omitzero"`
	// LastReason is the reason given in the last hello.
	LastReason string `json:"last_reason,omitempty"`
	// Flags is the status reported in the last hello.
	Flags *Flags `json:"flags,omitempty"`
	// ChainSeq is the last stored record; SinkSeq the last passed on.
	ChainSeq uint64 `json:"chain_seq"`
	// SinkSeq is the last record passed to the Sink.
	SinkSeq uint64 `json:"sink_seq"`
	// PendingCommands are the commands still awaiting an outcome (queued,
	// waking, in session, delivered, in doubt), oldest first, with their
	// histories.
	PendingCommands []CommandRecord `json:"pending_commands"`
	// InDoubt counts the pending commands in doubt.
	InDoubt int `json:"in_doubt"`
	// BatteryPct is the battery level of the last hello (-1 if none yet).
	BatteryPct int `json:"battery_pct"`
	// BootCount is the boot count of the last hello.
	BootCount uint64 `json:"boot_count"`
	// Missing is set while the meter is reported missing.
	Missing bool `json:"missing"`
	// CheckInDue is when the meter's next scheduled check-in is due at the
	// latest (last seen + Config.CheckInInterval).
	CheckInDue time.Time `json:"check_in_due,omitzero"`
	// NextWakeAt is the meter's wake timer (zero when none is armed).
	NextWakeAt time.Time `json:"next_wake_at,omitzero"`
	// WakeAttemptsInEpisode counts wake calls since the meter last made
	// contact.
	WakeAttemptsInEpisode int `json:"wake_attempts_in_episode"`
	// WakeAttempts are the recent wake attempts and their outcomes, newest
	// first.
	WakeAttempts []WakeAttempt `json:"wake_attempts"`
	// SecurityEvents are the recent security events, newest first.
	SecurityEvents []MeterEvent `json:"security_events"`
	// StatusEvents are the recent status events, newest first.
	StatusEvents []MeterEvent `json:"status_events"`
	// KeyRotationPending is set while a rotate_key command is staged.
	KeyRotationPending bool `json:"key_rotation_pending"`
}

// Status returns what the platform knows about a meter, or ErrNotFound.
func (s *Service) Status(ctx context.Context, id string) (MeterStatus, error) {
	ms, err := s.loadMeter(ctx, id)
	if err != nil {
		return MeterStatus{}, err
	}
	st := MeterStatus{
		BatteryPct:         -1,
		BootCount:          hashUint(ms.fields["boot_count"]),
		Missing:            ms.fields["missing_at"] != "",
		KeyRotationPending: ms.fields["key_next_epoch"] != "",
		Meter:              ms.Meter,
		LastSeen:           parseTime(ms.fields["last_seen"]),
		LastMessage:        ms.fields["last_msg"],
		LastHelloAt:        parseTime(ms.fields["hello_at"]),
		LastReason:         ms.fields["last_reason"],
		ChainSeq:           hashUint(ms.fields["chain_seq"]),
		SinkSeq:            hashUint(ms.fields["sink_seq"]),
	}
	if f := ms.fields["flags"]; f != "" {
		var flags Flags
		if json.Unmarshal([]byte(f), &flags) == nil {
			st.Flags = &flags
			st.BatteryPct = flags.BatteryPct
		}
	}
	if !st.LastSeen.IsZero() {
		st.CheckInDue = st.LastSeen.Add(s.cfg.CheckInInterval)
	}
	st.WakeAttemptsInEpisode, _ = strconv.Atoi(ms.fields["wake_attempts"])
	if due, _ := strconv.ParseInt(ms.fields["wake_due"], 10, 64); due > 0 {
		st.NextWakeAt = time.UnixMilli(due).UTC()
	}
	if st.Bays, err = s.bays(ctx, ms.Meter); err != nil {
		return MeterStatus{}, err
	}
	if st.PendingCommands, err = s.openCommands(ctx, id); err != nil {
		return MeterStatus{}, err
	}
	if err := s.fillNextAttempt(ctx, id, st.PendingCommands); err != nil {
		return MeterStatus{}, err
	}
	for _, c := range st.PendingCommands {
		if c.State == StateInDoubt {
			st.InDoubt++
		}
	}
	if st.WakeAttempts, err = s.WakeAttempts(ctx, id); err != nil {
		return MeterStatus{}, err
	}
	if st.SecurityEvents, err = s.events(ctx, keySecurity(id)); err != nil {
		return MeterStatus{}, err
	}
	if st.StatusEvents, err = s.events(ctx, keyStatusEvents(id)); err != nil {
		return MeterStatus{}, err
	}
	return st, nil
}

// createMeterRequest is the body of POST /meters: a Meter without KeyEpoch.
type createMeterRequest struct {
	ID        string   `json:"id"`
	SIMNumber string   `json:"sim_number"`
	Zone      string   `json:"zone"`
	Location  string   `json:"location"`
	Bays      []string `json:"bays"`
}

// CreateMeterResponse is the answer to POST /meters. Key is the meter's
// master key, base64 (standard encoding), returned only this once.
type CreateMeterResponse struct {
	// Meter is the registered meter.
	Meter Meter `json:"meter"`
	// Key is the base64 master key to install in the meter.
	Key string `json:"key"`
}

// RegisterAdmin mounts the operators' meter routes under g, which must
// already authenticate its callers:
//
//	POST /meters                            register (JSON Meter without key_epoch) -> 201 CreateMeterResponse
//	                                        (409 if the id or the sim_number is already registered)
//	GET  /meters                            {"meters": [Meter...]}
//	GET  /meters/:id                        MeterStatus: last seen, battery, pending and in-doubt
//	                                        commands with histories, wake attempts, security and
//	                                        status events
//	GET  /meters/:id/commands               {"commands": [CommandRecord...]} newest first
//	POST /meters/:id/commands/:cmd/cancel   withdraw an undelivered command -> CommandRecord
//	                                        (409 once delivered); optional body {"reason": "..."}
//	POST /meters/:id/commands/:cmd/retry    wake the meter now for an open command, resetting the
//	                                        back-off -> CommandRecord (409 if not open)
//	POST /meters/:id/rotate-key             start a key rotation -> 202 {"command_id": "..."}
func (s *Service) RegisterAdmin(g *echo.Group) {
	g.POST("/meters", s.adminCreateMeter)
	g.GET("/meters", s.adminListMeters)
	g.GET("/meters/:id", s.adminMeter)
	g.GET("/meters/:id/commands", s.adminCommands)
	g.POST("/meters/:id/commands/:cmd/cancel", s.adminCancel)
	g.POST("/meters/:id/commands/:cmd/retry", s.adminRetry)
	g.POST("/meters/:id/rotate-key", s.adminRotateKey)
}

func (s *Service) adminCreateMeter(c echo.Context) error {
	var req createMeterRequest
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return s.adminError(c, fmt.Errorf("%w: body: %v", ErrInvalid, err))
	}
	m := Meter{ID: req.ID, SIMNumber: req.SIMNumber, Zone: req.Zone, Location: req.Location, Bays: req.Bays}
	key, err := s.CreateMeter(c.Request().Context(), m)
	if err != nil {
		return s.adminError(c, err)
	}
	m, err = s.Meter(c.Request().Context(), m.ID)
	if err != nil {
		return s.adminError(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, CreateMeterResponse{Meter: m, Key: base64.StdEncoding.EncodeToString(key)})
}

func (s *Service) adminListMeters(c echo.Context) error {
	ms, err := s.Meters(c.Request().Context())
	if err != nil {
		return s.adminError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"meters": ms})
}

func (s *Service) adminMeter(c echo.Context) error {
	st, err := s.Status(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.adminError(c, err)
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Service) adminCommands(c echo.Context) error {
	cmds, err := s.Commands(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.adminError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"commands": cmds})
}

// meterCommand loads the route's command and checks it belongs to the
// route's meter.
func (s *Service) meterCommand(c echo.Context) (CommandRecord, error) {
	cmd, err := s.Command(c.Request().Context(), c.Param("cmd"))
	if err != nil {
		return CommandRecord{}, err
	}
	if cmd.MeterID != c.Param("id") {
		return CommandRecord{}, fmt.Errorf("%w: command %s of meter %s", ErrNotFound, c.Param("cmd"), c.Param("id"))
	}
	return cmd, nil
}

// cancelRequest is the optional body of the cancel route.
type cancelRequest struct {
	Reason string `json:"reason"`
}

func (s *Service) adminCancel(c echo.Context) error {
	cmd, err := s.meterCommand(c)
	if err != nil {
		return s.adminError(c, err)
	}
	var req cancelRequest
	if c.Request().ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			return s.adminError(c, fmt.Errorf("%w: body: %v", ErrInvalid, err))
		}
	}
	if len(req.Reason) > 200 || hasControl(req.Reason) {
		return s.adminError(c, fmt.Errorf("%w: reason too long or not printable", ErrInvalid))
	}
	reason := "cancelled by operator"
	if req.Reason != "" {
		reason = "cancelled by operator: " + req.Reason
	}
	if err := s.CancelCommand(c.Request().Context(), cmd.CommandID, reason); err != nil {
		return s.adminError(c, err)
	}
	return s.adminCommandResult(c, cmd.CommandID)
}

func (s *Service) adminRetry(c echo.Context) error {
	cmd, err := s.meterCommand(c)
	if err != nil {
		return s.adminError(c, err)
	}
	if err := s.RetryCommand(c.Request().Context(), cmd.CommandID); err != nil {
		return s.adminError(c, err)
	}
	return s.adminCommandResult(c, cmd.CommandID)
}

func (s *Service) adminCommandResult(c echo.Context, id string) error {
	rec, err := s.Command(c.Request().Context(), id)
	if err != nil {
		return s.adminError(c, err)
	}
	return c.JSON(http.StatusOK, rec)
}

func (s *Service) adminRotateKey(c echo.Context) error {
	id, err := s.RotateKey(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.adminError(c, err)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"command_id": id})
}

// adminError renders an error as {"error": "..."} with a status chosen by
// its sentinel.
func (s *Service) adminError(c echo.Context, err error) error {
	status := http.StatusInternalServerError
	msg := "internal error"
	switch {
	case errors.Is(err, ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrNotFound):
		status, msg = http.StatusNotFound, "not found"
	case errors.Is(err, ErrExists):
		status, msg = http.StatusConflict, "already exists"
	case errors.Is(err, ErrSIMInUse):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, ErrWrongState), errors.Is(err, ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	default:
		s.log.ErrorContext(c.Request().Context(), "admin request failed", "path", c.Path(), "err", err)
	}
	return c.JSON(status, map[string]string{"error": msg})
}
