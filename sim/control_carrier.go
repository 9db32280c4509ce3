package sim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// registerControl mounts the tester control routes of the carrier.
func (c *Carrier) registerControl(e *echo.Echo) {
	e.GET("/sim/v1/phones", c.handlePhones)
	e.GET("/sim/v1/phones/:number", c.handlePhone)
	e.POST("/sim/v1/phones/:number", c.handleSetPhone)
	e.POST("/sim/v1/phones/:number/sms", c.handlePhoneSMS)
	e.GET("/sim/v1/phones/:number/messages", c.handlePhoneMessages)
	e.GET("/sim/v1/messages", c.handleMessages)
	e.GET("/sim/v1/faults", c.handleFaults)
	e.POST("/sim/v1/faults", c.handleInjectFault)
	e.DELETE("/sim/v1/faults", c.handleClearFaults)
	c.registerVoiceControl(e)
}

// controlError is the JSON error of the control API.
type controlError struct {
	Error string `json:"error"`
}

// writeControlError maps sentinel errors to HTTP statuses.
func writeControlError(ec echo.Context, err error) error {
	status := http.StatusBadRequest
	if errors.Is(err, ErrNotFound) {
		status = http.StatusNotFound
	}
	if errors.Is(err, ErrNoWebhook) || errors.Is(err, ErrNoVoiceWebhook) {
		status = http.StatusConflict
	}
	return ec.JSON(status, controlError{Error: err.Error()})
}

// pathNumber reads the :number path parameter: percent-decoded, and a
// leading "+" added when missing.
func pathNumber(ec echo.Context) (string, error) {
	raw, err := url.PathUnescape(ec.Param("number"))
	if err != nil {
		return "", ErrInvalidNumber
	}
	n := strings.TrimSpace(raw)
	if n != "" && !strings.HasPrefix(n, "+") {
		n = "+" + n
	}
	if !e164.MatchString(n) {
		return "", ErrInvalidNumber
	}
	return n, nil
}

func (c *Carrier) handlePhones(ec echo.Context) error {
	return ec.JSON(http.StatusOK, c.Phones())
}

func (c *Carrier) handlePhone(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	p, err := c.Phone(n)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, p)
}

func (c *Carrier) handleSetPhone(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	var body struct {
		Behaviour Behaviour `json:"behaviour"`
	}
	if err := decodeJSON(ec, &body); err != nil {
		return writeControlError(ec, errors.New("sim: invalid JSON body"))
	}
	if err := c.SetBehaviour(n, body.Behaviour); err != nil {
		return writeControlError(ec, err)
	}
	p, _ := c.Phone(n)
	return ec.JSON(http.StatusOK, p)
}

func (c *Carrier) handlePhoneSMS(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	var in InboundSMS
	if err := decodeJSON(ec, &in); err != nil {
		return writeControlError(ec, errors.New("sim: invalid JSON body"))
	}
	res, err := c.SendSMS(ec.Request().Context(), n, in)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, res)
}

func (c *Carrier) handlePhoneMessages(ec echo.Context) error {
	n, err := pathNumber(ec)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, c.PhoneMessages(n, ec.QueryParam("since")))
}

func (c *Carrier) handleMessages(ec echo.Context) error {
	return ec.JSON(http.StatusOK, c.Messages())
}

func (c *Carrier) handleFaults(ec echo.Context) error {
	return ec.JSON(http.StatusOK, c.Faults())
}

func (c *Carrier) handleInjectFault(ec echo.Context) error {
	var f Fault
	if err := decodeJSON(ec, &f); err != nil {
		return writeControlError(ec, errors.New("sim: invalid JSON body"))
	}
	if err := c.InjectFault(f); err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, c.Faults())
}

func (c *Carrier) handleClearFaults(ec echo.Context) error {
	c.ClearFaults()
	return ec.NoContent(http.StatusNoContent)
}

// decodeJSON reads a JSON body whatever its Content-Type; an empty body
// leaves v unchanged.
func decodeJSON(ec echo.Context, v any) error {
	err := json.NewDecoder(io.LimitReader(ec.Request().Body, 1<<20)).Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
