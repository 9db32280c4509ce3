package sim

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Twilio REST error codes the simulated API returns.
const (
	codeAuthenticate        = 20003
	codeNotFound            = 20404
	codeTooManyRequests     = 20429
	codeInternal            = 20500
	codeInvalidParameter    = 20001
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

// badRequest answers 400 with a Twilio error code.
func badRequest(ec echo.Context, code int, msg string) error {
	return writeTwilioError(ec, http.StatusBadRequest, code, msg)
}
