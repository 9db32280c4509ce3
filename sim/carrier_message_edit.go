package sim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// finalStatuses are the statuses after which a message changes no more.
var finalStatuses = []string{StatusDelivered, StatusUndelivered, StatusFailed, StatusReceived}

// handleUpdateMessage is POST /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json,
// as Twilio has it: Body="" redacts the record's text (the handset keeps
// what it received); Status=canceled cancels a scheduled message, and the
// simulator schedules none (30409); anything else, or both, is 30400.
func (c *Carrier) handleUpdateMessage(ec echo.Context) error {
	sid, _ := strings.CutSuffix(ec.Param("sidjson"), ".json")
	if err := ec.Request().ParseForm(); err != nil {
		return writeTwilioError(ec, http.StatusBadRequest, codeMessageParams, "Parameters are not valid")
	}
	form := ec.Request().PostForm
	_, hasBody := form["Body"]
	status, hasStatus := form["Status"]
	c.mu.Lock()
	m, ok := c.msgs[sid]
	if !ok {
		c.mu.Unlock()
		return writeTwilioError(ec, http.StatusNotFound, codeNotFound, "The requested resource "+ec.Request().URL.Path+" was not found")
	}
	switch {
	case hasBody && !hasStatus && form.Get("Body") == "":
		if m.shown == "" {
			m.shown = m.Body
		}
		m.Body = ""
		m.DateUpdated = c.now()
	case hasStatus && !hasBody && len(status) == 1 && status[0] == "canceled":
		c.mu.Unlock()
		return writeTwilioError(ec, http.StatusBadRequest, codeNotCancelable, "This message cannot be canceled")
	default:
		c.mu.Unlock()
		return writeTwilioError(ec, http.StatusBadRequest, codeMessageParams,
			"Parameters are not valid: send Body empty to redact the message, or Status=canceled to cancel a scheduled one")
	}
	snap := m.clone()
	c.mu.Unlock()
	c.log.Info("sim sms redacted", "sid", sid)
	return ec.JSON(http.StatusOK, render(snap))
}

// handleDeleteMessage is DELETE /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json:
// 204 and the record is gone from the account (fetch and list no longer
// show it; the handset keeps the text). A message not yet in a final
// status cannot be deleted (409, 20009).
func (c *Carrier) handleDeleteMessage(ec echo.Context) error {
	sid, _ := strings.CutSuffix(ec.Param("sidjson"), ".json")
	c.mu.Lock()
	m, ok := c.msgs[sid]
	if !ok {
		c.mu.Unlock()
		return writeTwilioError(ec, http.StatusNotFound, codeNotFound, "The requested resource "+ec.Request().URL.Path+" was not found")
	}
	if !slices.Contains(finalStatuses, m.Status) {
		c.mu.Unlock()
		return writeTwilioError(ec, http.StatusConflict, codeNotComplete, "Cannot delete this resource before it is complete")
	}
	delete(c.msgs, sid)
	m.deleted = true
	if m.shown == "" {
		m.shown = m.Body
	}
	c.mu.Unlock()
	c.log.Info("sim sms deleted", "sid", sid)
	return ec.NoContent(http.StatusNoContent)
}
