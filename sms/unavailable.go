package sms

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"unicode"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go/twiml"
)

// storeUnavailable reports whether err means Redis could not be reached (a
// refused or broken connection, a closed client, an exhausted pool), as
// opposed to an answer Redis gave.
func storeUnavailable(err error) bool {
	if errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// Texts asking the driver to send a reply again when it could not be
// recorded. The driver's language is kept in Redis, so the only hint left is
// the reply itself: Chinese characters get the Chinese text.
const (
	resendEnglish = "Sorry, we could not process your reply just now. Please send it again in a few minutes."
	resendChinese = "對不起，系統暫時未能處理你的回覆，請稍後再傳送一次。Sorry, we could not process your reply just now. Please send it again in a few minutes."
)

// resendText is the text asking for a reply again, in the language the body
// suggests.
func resendText(body string) string {
	if strings.IndexFunc(body, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0 {
		return resendChinese
	}
	return resendEnglish
}

// resendResponse answers an inbound message that could not be recorded with
// an inline TwiML message asking the driver to send it again. It is the only
// inline reply: the outbox that normally carries replies is in Redis too.
func resendResponse(c echo.Context, body string) error {
	doc, err := twiml.Messages([]twiml.Element{&twiml.MessagingMessage{Body: resendText(body)}})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(doc))
}
