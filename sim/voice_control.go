package sim

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// maxControlWait bounds ?wait= on the control routes.
const maxControlWait = 60 * time.Second

// registerVoiceControl mounts the tester control routes of voice calls.
func (c *Carrier) registerVoiceControl(e *echo.Echo) {
	e.GET("/sim/v1/phones/:number/voice", c.handlePhoneVoice)
	e.POST("/sim/v1/phones/:number/voice", c.handleSetPhoneVoice)
	e.POST("/sim/v1/phones/:number/call", c.handlePhoneCall)
	e.GET("/sim/v1/phones/:number/calls", c.handlePhoneCalls)
	e.GET("/sim/v1/calls", c.handleCalls)
	e.GET("/sim/v1/calls/:sid", c.handleCall)
}

// parseWait reads ?wait= as a Go duration ("10s") or seconds ("10"),
// capped at maxControlWait.
func parseWait(ec echo.Context) (time.Duration, error) {
	v := strings.TrimSpace(ec.QueryParam("wait"))
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, errors.New("sim: wait must be a duration such as 10s")
		}
		d = time.Duration(n) * time.Second
	}
	return min(max(d, 0), maxControlWait), nil
}

// waitFor returns the call sid, after waiting up to ?wait= for it to end.
func (c *Carrier) waitFor(ec echo.Context, sid string) (Call, error) {
	wait, err := parseWait(ec)
	if err != nil {
		return Call{}, err
	}
	if wait == 0 {
		return c.Call(sid)
	}
	ctx, cancel := context.WithTimeout(ec.Request().Context(), wait)
	defer cancel()
	call, err := c.WaitCall(ctx, sid)
	if errors.Is(err, ErrNotFound) {
		return Call{}, err
	}
	return call, nil
}

func (c *Carrier) handlePhoneVoice(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, c.VoiceScriptOf(n))
}

func (c *Carrier) handleSetPhoneVoice(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	var s VoiceScript
	if err := decodeJSON(ec, &s); err != nil {
		return writeControlError(ec, errors.New("sim: invalid JSON body"))
	}
	s, err = c.SetVoiceScript(n, s)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, s)
}

func (c *Carrier) handlePhoneCall(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	var in InboundCall
	if err := decodeJSON(ec, &in); err != nil {
		return writeControlError(ec, errors.New("sim: invalid JSON body"))
	}
	if _, err := parseWait(ec); err != nil {
		return writeControlError(ec, err)
	}
	call, err := c.CallPlatform(n, in)
	if err != nil {
		return writeControlError(ec, err)
	}
	call, err = c.waitFor(ec, call.Sid)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusCreated, call)
}

func (c *Carrier) handlePhoneCalls(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, c.PhoneCalls(n))
}

func (c *Carrier) handleCalls(ec echo.Context) error {
	return ec.JSON(http.StatusOK, c.Calls())
}

func (c *Carrier) handleCall(ec echo.Context) error {
	call, err := c.waitFor(ec, ec.Param("sid"))
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, call)
}
