package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"
)

// serverInfo answers GET /admin/v1/server: how this server runs (carrier
// mode, platform number, where the simulated world is) and its effective
// settings, under the settings file's own field names (durations as Go
// duration strings such as "10m0s"). Testers' tools read it to refuse a
// scenario the running server cannot carry.
func (a *App) serverInfo(c echo.Context) error {
	// The settings carry yaml tags only; a YAML round trip gives the
	// operator's field names without a second set of tags to keep in step.
	raw, err := yaml.Marshal(a.settings)
	if err != nil {
		return c.JSON(http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "settings could not be encoded"}})
	}
	var settings map[string]any
	if err := yaml.Unmarshal(raw, &settings); err != nil {
		return c.JSON(http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "settings could not be encoded"}})
	}
	out := map[string]any{
		"carrier":  a.cfg.Carrier,
		"sms_from": a.cfg.SMSFrom,
		"settings": settings,
	}
	if a.cfg.Carrier == "sim" {
		out["sim_url"] = "http://" + a.cfg.SimAddr
	}
	return c.JSON(http.StatusOK, out)
}
