package sim

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// registerControl mounts the tester control routes of pushes and apps.
func (ps *PushSim) registerControl(e *echo.Echo) {
	e.GET("/sim/v1/pushes", ps.handlePushes)
	e.POST("/sim/v1/push/invalidate", ps.handleInvalidate)
	e.GET("/sim/v1/push/faults", ps.handlePushFaults)
	e.POST("/sim/v1/push/faults", ps.handleInjectPushFault)
	e.DELETE("/sim/v1/push/faults", ps.handleClearPushFaults)
	e.GET("/sim/v1/apps", ps.handleApps)
	e.POST("/sim/v1/apps", ps.handleCreateApp)
	e.GET("/sim/v1/apps/:id", ps.handleApp)
	e.POST("/sim/v1/apps/:id/script", ps.handleScriptApp)
}

// writePushError maps the push simulator's errors to HTTP statuses.
func writePushError(ec echo.Context, err error) error {
	if errors.Is(err, ErrAppRegistration) {
		return ec.JSON(http.StatusBadGateway, controlError{Error: err.Error()})
	}
	return writeControlError(ec, err)
}

func (ps *PushSim) handlePushes(ec echo.Context) error {
	return ec.JSON(http.StatusOK, ps.Pushes(ec.QueryParam("token")))
}

func (ps *PushSim) handleInvalidate(ec echo.Context) error {
	var body struct {
		Token string `json:"token"`
	}
	if err := decodeJSON(ec, &body); err != nil {
		return writePushError(ec, errors.New("sim: invalid JSON body"))
	}
	if err := ps.Invalidate(body.Token); err != nil {
		return writePushError(ec, err)
	}
	return ec.JSON(http.StatusOK, map[string]any{"token": body.Token, "invalid": true})
}

func (ps *PushSim) handlePushFaults(ec echo.Context) error {
	return ec.JSON(http.StatusOK, ps.PushFaults())
}

func (ps *PushSim) handleInjectPushFault(ec echo.Context) error {
	var f PushFault
	if err := decodeJSON(ec, &f); err != nil {
		return writePushError(ec, errors.New("sim: invalid JSON body"))
	}
	if err := ps.InjectPushFault(f); err != nil {
		return writePushError(ec, err)
	}
	return ec.JSON(http.StatusOK, ps.PushFaults())
}

func (ps *PushSim) handleClearPushFaults(ec echo.Context) error {
	ps.ClearPushFaults()
	return ec.NoContent(http.StatusNoContent)
}

func (ps *PushSim) handleApps(ec echo.Context) error {
	return ec.JSON(http.StatusOK, ps.Apps())
}

func (ps *PushSim) handleCreateApp(ec echo.Context) error {
	var spec AppSpec
	if err := decodeJSON(ec, &spec); err != nil {
		return writePushError(ec, errors.New("sim: invalid JSON body"))
	}
	app, err := ps.CreateApp(ec.Request().Context(), spec)
	if err != nil {
		return writePushError(ec, err)
	}
	return ec.JSON(http.StatusCreated, app)
}

// handleApp returns an app; ?answers=n&wait=10s first waits (at most 60 s)
// until it has made n answers.
func (ps *PushSim) handleApp(ec echo.Context) error {
	id := ec.Param("id")
	wait, err := parseWait(ec)
	if err != nil {
		return writePushError(ec, err)
	}
	n, _ := strconv.Atoi(ec.QueryParam("answers"))
	if wait == 0 || n <= 0 {
		app, err := ps.App(id)
		if err != nil {
			return writePushError(ec, err)
		}
		return ec.JSON(http.StatusOK, app)
	}
	ctx, cancel := contextWithTimeout(ec, wait)
	defer cancel()
	app, err := ps.WaitApp(ctx, id, func(a App) bool { return len(a.Answers) >= n })
	if errors.Is(err, ErrNotFound) {
		return writePushError(ec, err)
	}
	return ec.JSON(http.StatusOK, app)
}

func (ps *PushSim) handleScriptApp(ec echo.Context) error {
	var step AppStep
	if err := decodeJSON(ec, &step); err != nil {
		return writePushError(ec, errors.New("sim: invalid JSON body"))
	}
	app, err := ps.ScriptApp(ec.Param("id"), step)
	if err != nil {
		return writePushError(ec, err)
	}
	return ec.JSON(http.StatusOK, app)
}

// contextWithTimeout is the request's context bounded by d.
func contextWithTimeout(ec echo.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ec.Request().Context(), d)
}
