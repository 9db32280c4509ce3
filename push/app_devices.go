package push

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// DeviceRequest registers a device.
type DeviceRequest struct {
	// Platform is "fcm" or "apns".
	Platform string `json:"platform"`
	// Token is the device token the platform gave the app.
	Token string `json:"token"`
}

// DeviceResponse answers a registration.
type DeviceResponse struct {
	Device Device `json:"device"`
	// Created is false when the device was registered already.
	Created bool `json:"created"`
}

// DevicesResponse lists the user's devices.
type DevicesResponse struct {
	Devices []Device `json:"devices"`
}

func (a *AppAPI) handleRegisterDevice(c echo.Context) error {
	ctx := c.Request().Context()
	user := c.Get(ctxUser).(string)
	var req DeviceRequest
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxRequestBody)).Decode(&req); err != nil {
		return fail(c, http.StatusBadRequest, codeInvalidJSON, "the body must be JSON {\"platform\",\"token\"}")
	}
	p, err := ParsePlatform(req.Platform)
	if err != nil {
		return fail(c, http.StatusBadRequest, codeInvalidPlatform, "platform must be fcm or apns")
	}
	created, err := a.Devices.Register(ctx, user, p, req.Token)
	switch {
	case errors.Is(err, ErrBadDeviceToken):
		return fail(c, http.StatusBadRequest, codeInvalidDevice, err.Error())
	case errors.Is(err, ErrTooManyDevices):
		return fail(c, http.StatusConflict, codeTooManyDevices, err.Error()+"; remove one first")
	case err != nil:
		return a.internal(c, "register device", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		a.Log.InfoContext(ctx, "device registered", "user", user, "platform", p, "device", maskToken(req.Token))
	}
	return c.JSON(status, DeviceResponse{Device: Device{Platform: p, Token: req.Token}, Created: created})
}

func (a *AppAPI) handleDevices(c echo.Context) error {
	list, err := a.Devices.List(c.Request().Context(), c.Get(ctxUser).(string))
	if err != nil {
		return a.internal(c, "list devices", err)
	}
	return c.JSON(http.StatusOK, DevicesResponse{Devices: list})
}

func (a *AppAPI) handleRemoveDevice(c echo.Context) error {
	ctx := c.Request().Context()
	user := c.Get(ctxUser).(string)
	tok, err := url.PathUnescape(c.Param("token"))
	if err != nil || tok == "" {
		return fail(c, http.StatusNotFound, codeDeviceNotFound, "no such device")
	}
	err = a.Devices.Remove(ctx, user, tok)
	switch {
	case errors.Is(err, ErrDeviceNotFound):
		return fail(c, http.StatusNotFound, codeDeviceNotFound, "no such device")
	case err != nil:
		return a.internal(c, "remove device", err)
	}
	a.Log.InfoContext(ctx, "device removed", "user", user, "device", maskToken(tok))
	return c.NoContent(http.StatusNoContent)
}
