package sim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
)

// uuidForm is the form APNs requires of apns-id.
var uuidForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// apnsMaxPayload is APNs' limit for alert notifications.
const apnsMaxPayload = 4096

// apnsFaultReasons are the reasons of injected APNs statuses.
var apnsFaultReasons = map[int]string{
	http.StatusBadRequest:          "BadTopic",
	http.StatusForbidden:           "InvalidProviderToken",
	http.StatusNotFound:            "BadPath",
	http.StatusGone:                "Unregistered",
	http.StatusTooManyRequests:     "TooManyRequests",
	http.StatusInternalServerError: "InternalServerError",
	http.StatusServiceUnavailable:  "ServiceUnavailable",
}

// apnsHandler serves POST /3/device/{token} like APNs: HTTP/2 only, JSON
// {"reason"} errors, 410 with a timestamp for unregistered tokens.
func (ps *PushSim) apnsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /3/device/{token}", ps.handleAPNsPush)
	mux.HandleFunc("/3/device/{token}", func(w http.ResponseWriter, _ *http.Request) {
		apnsError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", 0)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		apnsError(w, http.StatusNotFound, "BadPath", 0)
	})
	return mux
}

func apnsError(w http.ResponseWriter, status int, reason string, timestamp int64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"reason": reason}
	if timestamp != 0 {
		body["timestamp"] = timestamp
	}
	_ = json.NewEncoder(w).Encode(body)
}

func (ps *PushSim) handleAPNsPush(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor != 2 {
		http.Error(w, "APNs requires HTTP/2", http.StatusHTTPVersionNotSupported)
		return
	}
	token := r.PathValue("token")
	p := Push{Provider: ProviderAPNs, Token: token, At: ps.cfg.Clock(), Proto: r.Proto, CollapseID: r.Header.Get("apns-collapse-id")}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, apnsMaxPayload+1))
	parseAPNsPayload(raw, &p)
	id := r.Header.Get("apns-id")
	reason, status := "", 0
	topic := r.Header.Get("apns-topic")
	switch f := ps.takeFault(ProviderAPNs); {
	case f != 0:
		status, reason = f, apnsFaultReasons[f]
		if reason == "" {
			reason = http.StatusText(f)
		}
	case id != "" && !uuidForm.MatchString(id):
		status, reason = http.StatusBadRequest, "BadMessageId"
	case !apnsTokenForm.MatchString(token):
		status, reason = http.StatusBadRequest, "BadDeviceToken"
	case ps.cfg.APNsTopic != "" && topic == "":
		status, reason = http.StatusBadRequest, "MissingTopic"
	case ps.cfg.APNsTopic != "" && topic != ps.cfg.APNsTopic:
		status, reason = http.StatusBadRequest, "DeviceTokenNotForTopic"
	case len(raw) == 0:
		status, reason = http.StatusBadRequest, "PayloadEmpty"
	case len(raw) > apnsMaxPayload:
		status, reason = http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	case ps.isInvalid(token):
		status, reason = http.StatusGone, "Unregistered"
	}
	if status != 0 {
		p.Status, p.Reason = status, reason
		ps.record(p)
		var ts int64
		if status == http.StatusGone {
			ts = p.At.UnixMilli()
		}
		apnsError(w, status, reason, ts)
		return
	}
	if id == "" {
		id = newUUID()
	}
	p.ID, p.Status = id, http.StatusOK
	w.Header().Set("apns-id", id)
	w.Header().Set("apns-unique-id", newUUID())
	w.WriteHeader(http.StatusOK)
	ps.record(p)
}

// parseAPNsPayload reads the alert, category and custom string keys of an
// APNs payload into p.
func parseAPNsPayload(raw []byte, p *Push) {
	var body map[string]json.RawMessage
	if json.Unmarshal(raw, &body) != nil {
		return
	}
	var aps struct {
		Alert    json.RawMessage `json:"alert"`
		Category string          `json:"category"`
	}
	if json.Unmarshal(body["aps"], &aps) == nil {
		p.Category = aps.Category
		var alert struct {
			Title string `json:"title"`
			Body  string `json:"body"`
		}
		if json.Unmarshal(aps.Alert, &alert) == nil {
			p.Title, p.Body = alert.Title, alert.Body
		} else {
			_ = json.Unmarshal(aps.Alert, &p.Body)
		}
	}
	for k, v := range body {
		var s string
		if k != "aps" && json.Unmarshal(v, &s) == nil {
			if p.Data == nil {
				p.Data = map[string]string{}
			}
			p.Data[k] = s
		}
	}
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
