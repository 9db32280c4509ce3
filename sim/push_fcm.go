package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// fcmRequest is the body of FCM HTTP v1 messages:send (the parts the fake
// reads).
type fcmRequest struct {
	ValidateOnly bool        `json:"validate_only"`
	Message      *fcmMessage `json:"message"`
}

type fcmMessage struct {
	Token        string            `json:"token"`
	Topic        string            `json:"topic"`
	Condition    string            `json:"condition"`
	Data         map[string]string `json:"data"`
	Notification *struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"notification"`
	Android *struct {
		CollapseKey  string `json:"collapse_key"`
		Notification *struct {
			ClickAction string `json:"click_action"`
		} `json:"notification"`
	} `json:"android"`
	APNS *struct {
		Headers map[string]string `json:"headers"`
		Payload struct {
			Aps struct {
				Category string `json:"category"`
			} `json:"aps"`
		} `json:"payload"`
	} `json:"apns"`
}

// googleError is Google's JSON error shape.
type googleError struct {
	Error googleErrorBody `json:"error"`
}

type googleErrorBody struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status"`
	Details []map[string]any `json:"details,omitempty"`
}

// fcmErrorDetail is the FcmError detail naming the messaging error code.
func fcmErrorDetail(code string) map[string]any {
	return map[string]any{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}
}

// fcmFault is the answer of FCM to an injected HTTP status.
func fcmFault(status int) googleError {
	switch status {
	case http.StatusTooManyRequests:
		return googleError{googleErrorBody{status, "Quota exceeded for quota metric 'Send requests'.", "RESOURCE_EXHAUSTED", []map[string]any{fcmErrorDetail("QUOTA_EXCEEDED")}}}
	case http.StatusServiceUnavailable:
		return googleError{googleErrorBody{status, "The service is currently unavailable.", "UNAVAILABLE", []map[string]any{fcmErrorDetail("UNAVAILABLE")}}}
	case http.StatusUnauthorized:
		return googleError{googleErrorBody{status, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "UNAUTHENTICATED", nil}}
	case http.StatusForbidden:
		return googleError{googleErrorBody{status, "SenderId mismatch", "PERMISSION_DENIED", []map[string]any{fcmErrorDetail("SENDER_ID_MISMATCH")}}}
	case http.StatusNotFound:
		return googleError{googleErrorBody{status, "Requested entity was not found.", "NOT_FOUND", nil}}
	case http.StatusBadRequest:
		return googleError{googleErrorBody{status, "Request contains an invalid argument.", "INVALID_ARGUMENT", []map[string]any{fcmErrorDetail("INVALID_ARGUMENT")}}}
	}
	if status >= 500 {
		return googleError{googleErrorBody{status, "Internal error encountered.", "INTERNAL", []map[string]any{fcmErrorDetail("INTERNAL")}}}
	}
	return googleError{googleErrorBody{status, http.StatusText(status), "FAILED_PRECONDITION", nil}}
}

// handleFCMSend serves POST /fcm/v1/projects/{project}/messages:send.
func (ps *PushSim) handleFCMSend(ec echo.Context) error {
	if ec.Param("*") != "messages:send" {
		return ec.JSON(http.StatusNotFound, fcmFault(http.StatusNotFound))
	}
	project := ec.Param("project")
	if ps.cfg.FCMProject != "" && project != ps.cfg.FCMProject {
		return ec.JSON(http.StatusNotFound, fcmFault(http.StatusNotFound))
	}
	if ps.cfg.FCMAccessToken != "" && ec.Request().Header.Get(echo.HeaderAuthorization) != "Bearer "+ps.cfg.FCMAccessToken {
		return ec.JSON(http.StatusUnauthorized, fcmFault(http.StatusUnauthorized))
	}
	var req fcmRequest
	raw, err := io.ReadAll(io.LimitReader(ec.Request().Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil || req.Message == nil {
		msg := "Request contains an invalid argument."
		if err != nil {
			msg = "Invalid JSON payload received. " + err.Error()
		}
		return ec.JSON(http.StatusBadRequest, googleError{googleErrorBody{400, msg, "INVALID_ARGUMENT", nil}})
	}
	m := req.Message
	if m.Token == "" {
		return ec.JSON(http.StatusBadRequest, googleError{googleErrorBody{400, "The simulator only sends to registration tokens.", "INVALID_ARGUMENT", []map[string]any{fcmErrorDetail("INVALID_ARGUMENT")}}})
	}
	p := Push{Provider: ProviderFCM, Token: m.Token, At: ps.cfg.Clock(), Data: m.Data, Proto: ec.Request().Proto}
	if m.Notification != nil {
		p.Title, p.Body = m.Notification.Title, m.Notification.Body
	}
	if m.Android != nil {
		p.CollapseID = m.Android.CollapseKey
		if m.Android.Notification != nil {
			p.Category = m.Android.Notification.ClickAction
		}
	}
	if m.APNS != nil && m.APNS.Payload.Aps.Category != "" {
		p.Category = m.APNS.Payload.Aps.Category
	}
	var fail *googleError
	switch status := ps.takeFault(ProviderFCM); {
	case status != 0:
		f := fcmFault(status)
		fail = &f
	case !fcmTokenForm.MatchString(m.Token):
		fail = &googleError{googleErrorBody{400, "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT", []map[string]any{
			fcmErrorDetail("INVALID_ARGUMENT"),
			{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": []map[string]string{{"field": "message.token", "description": "Invalid registration token"}}},
		}}}
	case ps.isInvalid(m.Token):
		fail = &googleError{googleErrorBody{404, "Requested entity was not found.", "NOT_FOUND", []map[string]any{fcmErrorDetail("UNREGISTERED")}}}
	}
	if fail != nil {
		p.Status = fail.Error.Code
		p.Reason = fail.Error.Status
		if len(fail.Error.Details) > 0 {
			if c, ok := fail.Error.Details[0]["errorCode"].(string); ok {
				p.Reason = c
			}
		}
		ps.record(p)
		return ec.JSON(fail.Error.Code, fail)
	}
	name := fmt.Sprintf("projects/%s/messages/0:%d%%%s", project, p.At.UnixMicro(), newToken("")[:16])
	if req.ValidateOnly {
		return ec.JSON(http.StatusOK, map[string]string{"name": "projects/" + project + "/messages/fake_message_id"})
	}
	p.ID, p.Status = name, http.StatusOK
	ps.record(p)
	return ec.JSON(http.StatusOK, map[string]string{"name": name})
}
