package devicelink

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
	// PendingCommands are the commands still awaiting an outcome.
	PendingCommands []CommandRecord `json:"pending_commands"`
}

// Status returns what the platform knows about a meter, or ErrNotFound.
func (s *Service) Status(ctx context.Context, id string) (MeterStatus, error) {
	ms, err := s.loadMeter(ctx, id)
	if err != nil {
		return MeterStatus{}, err
	}
	st := MeterStatus{
		Meter:       ms.Meter,
		LastSeen:    parseTime(ms.fields["last_seen"]),
		LastMessage: ms.fields["last_msg"],
		LastHelloAt: parseTime(ms.fields["hello_at"]),
		LastReason:  ms.fields["last_reason"],
		ChainSeq:    hashUint(ms.fields["chain_seq"]),
		SinkSeq:     hashUint(ms.fields["sink_seq"]),
	}
	if f := ms.fields["flags"]; f != "" {
		var flags Flags
		if json.Unmarshal([]byte(f), &flags) == nil {
			st.Flags = &flags
		}
	}
	if st.Bays, err = s.bays(ctx, ms.Meter); err != nil {
		return MeterStatus{}, err
	}
	if st.PendingCommands, err = s.openCommands(ctx, id); err != nil {
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
//	POST /meters              register (JSON Meter without key_epoch) -> 201 CreateMeterResponse
//	GET  /meters              {"meters": [Meter...]}
//	GET  /meters/:id          MeterStatus
//	GET  /meters/:id/commands {"commands": [CommandRecord...]} newest first
func (s *Service) RegisterAdmin(g *echo.Group) {
	g.POST("/meters", s.adminCreateMeter)
	g.GET("/meters", s.adminListMeters)
	g.GET("/meters/:id", s.adminMeter)
	g.GET("/meters/:id/commands", s.adminCommands)
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
	default:
		s.log.ErrorContext(c.Request().Context(), "admin request failed", "path", c.Path(), "err", err)
	}
	return c.JSON(status, map[string]string{"error": msg})
}
