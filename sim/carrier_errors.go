package sim

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// Twilio REST error codes the simulated API returns.
const (
	codeAuthenticate        = 20003
	codeNotFound            = 20404
	codeMethodNotAllowed    = 20004
	codeTooManyRequests     = 20429
	codeInternal            = 20500
	codeInvalidParameter    = 20001
	codeNotComplete         = 20009 // a message deleted before it reached a final status
	codeMessageParams       = 30400 // a message update that neither only redacts nor only cancels
	codeNotCancelable       = 30409 // a cancel of a message that is not scheduled
	codeInvalidTo           = 21211
	codeBodyRequired        = 21602
	codeFromRequired        = 21603
	codeToRequired          = 21604
	codeFromNotOwned        = 21606
	codeUnsubscribed        = 21610
	codeBodyTooLong         = 21617
	codeInvalidValidity     = 90007
	maxBodyChars            = 1600
	maxValidityPeriodSecond = 36000
)

// twilioError is Twilio's REST error JSON, decoded by twilio-go into
// client.TwilioRestError.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// writeTwilioError answers with a Twilio REST error.
func writeTwilioError(ec echo.Context, status, code int, msg string) error {
	return ec.JSON(status, twilioError{
		Code:     code,
		Message:  msg,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		Status:   status,
	})
}

// twilioRouteErrors answers an unknown route or method under the Twilio
// API as Twilio does, with its error JSON, so client libraries read it as
// a REST error; other routes keep echo's answer.
func twilioRouteErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		err := next(ec)
		var he *echo.HTTPError
		if err == nil || !errors.As(err, &he) || !strings.HasPrefix(ec.Request().URL.Path, "/"+twilioAPIVersion+"/") {
			return err
		}
		switch he.Code {
		case http.StatusNotFound:
			return writeTwilioError(ec, http.StatusNotFound, codeNotFound, "The requested resource "+ec.Request().URL.Path+" was not found")
		case http.StatusMethodNotAllowed:
			return writeTwilioError(ec, http.StatusMethodNotAllowed, codeMethodNotAllowed, "Method not allowed")
		}
		return err
	}
}

// badRequest answers 400 with a Twilio error code.
func badRequest(ec echo.Context, code int, msg string) error {
	return writeTwilioError(ec, http.StatusBadRequest, code, msg)
}
