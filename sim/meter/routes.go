package meter

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Register mounts the tester control routes (see the package doc) on e.
func (f *Fleet) Register(e *echo.Echo) {
	g := e.Group("/sim/v1/meters")
	g.POST("", f.handleAdd)
	g.GET("", f.handleList)
	g.GET("/:id", f.handleGet)
	g.POST("/:id/bays/:bay/tap", f.handleTap)
	g.POST("/:id/poll", f.handlePoll)
	g.POST("/:id/faults", f.handleFaults)
	g.POST("/:id/sensors", f.handleSensors)
	g.POST("/:id/checkin", f.handleCheckIn)
	g.POST("/:id/power-cycle", f.handlePowerCycle)
	e.POST("/sim/v1/ring", f.handleRing)
	e.POST("/sim/v1/tick", f.handleTick)
}

// ringRequest is the body of the ring route.
type ringRequest struct {
	To   string `json:"to"`
	From string `json:"from"`
}

// RingResponse is the answer of the ring route.
type RingResponse struct {
	// Outcome is the call status the carrier reports (busy, no-answer).
	Outcome string `json:"outcome"`
	// Handled is false when no meter has the number.
	Handled bool `json:"handled"`
}

func (f *Fleet) handleRing(c echo.Context) error {
	var req ringRequest
	if err := decode(c, &req); err != nil {
		return routeError(c, err)
	}
	out, ok := f.Ring(c.Request().Context(), req.To, req.From)
	return c.JSON(http.StatusOK, RingResponse{Outcome: out, Handled: ok})
}

func (f *Fleet) handleTick(c echo.Context) error {
	f.Tick(c.Request().Context())
	return c.JSON(http.StatusOK, map[string]any{"meters": f.List()})
}

func (f *Fleet) handleSensors(c echo.Context) error {
	m, ok := f.Meter(c.Param("id"))
	if !ok {
		return routeError(c, ErrNotFound)
	}
	var s Sensors
	if err := decode(c, &s); err != nil {
		return routeError(c, err)
	}
	m.SetSensors(s)
	return c.JSON(http.StatusOK, m.Snapshot())
}

func (f *Fleet) handleCheckIn(c echo.Context) error {
	err := f.CheckIn(c.Request().Context(), c.Param("id"))
	if errors.Is(err, ErrNotFound) {
		return routeError(c, err)
	}
	s, _ := f.Get(c.Param("id"))
	return c.JSON(http.StatusOK, s) // an exchange error shows in last_error
}

func (f *Fleet) handlePowerCycle(c echo.Context) error {
	if err := f.PowerCycle(c.Param("id")); err != nil {
		return routeError(c, err)
	}
	s, _ := f.Get(c.Param("id"))
	return c.JSON(http.StatusOK, s)
}

// tapRequest is the body of the tap route.
type tapRequest struct {
	CardToken string `json:"card_token"`
	Minutes   int    `json:"minutes"`
	// Seconds, when set, replaces Minutes.
	Seconds     int   `json:"seconds"`
	AmountMinor int64 `json:"amount_minor"`
}

func decode(c echo.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.Join(ErrInvalid, err)
	}
	return nil
}

func (f *Fleet) handleAdd(c echo.Context) error {
	var spec Spec
	if err := decode(c, &spec); err != nil {
		return routeError(c, err)
	}
	m, err := f.Add(c.Request().Context(), spec)
	if err != nil {
		return routeError(c, err)
	}
	return c.JSON(http.StatusCreated, m.Snapshot())
}

func (f *Fleet) handleList(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"meters": f.List()})
}

func (f *Fleet) handleGet(c echo.Context) error {
	s, ok := f.Get(c.Param("id"))
	if !ok {
		return routeError(c, ErrNotFound)
	}
	return c.JSON(http.StatusOK, s)
}

func (f *Fleet) handleTap(c echo.Context) error {
	var req tapRequest
	if err := decode(c, &req); err != nil {
		return routeError(c, err)
	}
	d := time.Duration(req.Minutes) * time.Minute
	if req.Seconds > 0 {
		d = time.Duration(req.Seconds) * time.Second
	}
	r, err := f.TapFor(c.Request().Context(), c.Param("id"), c.Param("bay"), req.CardToken, d, req.AmountMinor)
	if err != nil {
		return routeError(c, err)
	}
	s, _ := f.Get(c.Param("id"))
	return c.JSON(http.StatusCreated, map[string]any{"record": r, "meter": s})
}

func (f *Fleet) handlePoll(c echo.Context) error {
	err := f.Poll(c.Request().Context(), c.Param("id"))
	if errors.Is(err, ErrNotFound) {
		return routeError(c, err)
	}
	s, _ := f.Get(c.Param("id"))
	return c.JSON(http.StatusOK, s) // an exchange error shows in last_error
}

func (f *Fleet) handleFaults(c echo.Context) error {
	m, ok := f.Meter(c.Param("id"))
	if !ok {
		return routeError(c, ErrNotFound)
	}
	var faults Faults
	if err := decode(c, &faults); err != nil {
		return routeError(c, err)
	}
	m.SetFaults(faults)
	return c.JSON(http.StatusOK, m.Snapshot())
}

// routeError renders an error as {"error": "..."}.
func routeError(c echo.Context, err error) error {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrExists):
		status = http.StatusConflict
	case errors.Is(err, ErrRegister), errors.Is(err, ErrExchange):
		status = http.StatusBadGateway
	case errors.Is(err, ErrClosed):
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]string{"error": err.Error()})
}
