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
