package devicelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// ExchangePath is the meters' endpoint.
const ExchangePath = "/device/v1/exchange"

// Register mounts the meters' endpoint, POST /device/v1/exchange, on e.
// The request body is one envelope; the answer is one envelope (200) or a
// bare status: 400 malformed, 401 authentication (unknown meter, wrong epoch,
// bad tag), 409 replayed counter, 503 platform trouble. No detail is
// returned to the caller.
func (s *Service) Register(e *echo.Echo) {
	e.POST(ExchangePath, s.handleExchange)
}

func (s *Service) handleExchange(c echo.Context) error {
	req := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		s.metrics.reject("body")
		return c.NoContent(http.StatusBadRequest)
	}
	out, err := s.Exchange(req.Context(), body)
	if err != nil {
		return c.NoContent(StatusFor(err))
	}
	return c.Blob(http.StatusOK, "application/octet-stream", out)
}

// StatusFor maps an Exchange error to the HTTP status a meter sees.
func StatusFor(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrAuth), errors.Is(err, ErrUnknownMeter), errors.Is(err, ErrEpoch):
		return http.StatusUnauthorized
	case errors.Is(err, ErrReplay):
		return http.StatusConflict
	}
	return http.StatusServiceUnavailable
}

// rejectReason names an envelope error for metrics and logs.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrAuth):
		return "auth"
	case errors.Is(err, ErrUnknownMeter):
		return "unknown_meter"
	case errors.Is(err, ErrEpoch):
		return "epoch"
	case errors.Is(err, ErrReplay):
		return "replay"
	}
	return "internal"
}

// Exchange handles one meter envelope and returns the sealed reply. It is
// the transport-independent core of the HTTP endpoint. Errors wrap the
// envelope errors (see StatusFor) or are platform failures; the meter
// retries either way with a fresh counter. A refused envelope of a
// registered meter (bad tag, replayed counter, retired or unknown key epoch)
// is a security event of that meter.
func (s *Service) Exchange(ctx context.Context, data []byte) ([]byte, error) {
	keys := &serverKeys{ctx: ctx, s: s}
	h, body, err := Open(keys, data)
	if err != nil {
		reason := rejectReason(err)
		s.metrics.reject(reason)
		if reason == "internal" {
			s.log.ErrorContext(ctx, "exchange failed", "err", err)
			return nil, err
		}
		s.log.WarnContext(ctx, "envelope refused", "reason", reason, "meter", safeID(h.MeterID, data))
		if id := keys.meter.ID; id != "" {
			if serr := s.securityEvent(ctx, id, securityKindFor(reason), err.Error()); serr != nil {
				s.log.ErrorContext(ctx, "security event not stored", "meter", id, "err", serr)
			}
		}
		return nil, err
	}
	ms := keys.meter
	var msg MeterMessage
	if err := json.Unmarshal(body, &msg); err != nil || !knownMessage(msg.Type) {
		s.metrics.reject("body")
		s.log.WarnContext(ctx, "authenticated envelope with an invalid body", "meter", ms.ID)
		return nil, fmt.Errorf("%w: body is not a meter message", ErrMalformed)
	}
	s.metrics.exchange(msg.Type)
	out, err := s.process(ctx, ms, keys.epoch, keys.master, msg)
	if err != nil {
		s.log.ErrorContext(ctx, "exchange failed", "meter", ms.ID, "msg", msg.Type, "err", err)
		return nil, err
	}
	return out, nil
}

// safeID returns the header's meter id if it parsed, for logging.
func safeID(id string, data []byte) string {
	if id != "" {
		return id
	}
	if h, _, err := ParseHeader(data); err == nil && meterIDPattern.MatchString(h.MeterID) {
		return h.MeterID
	}
	return ""
}

func knownMessage(t string) bool {
	switch t {
	case MsgHello, MsgUpload, MsgPoll, MsgAck, MsgBye:
		return true
	}
	return false
}

// process carries out one authenticated meter message and seals the reply
// under the key epoch the message used.
func (s *Service) process(ctx context.Context, ms meterState, epoch uint32, master []byte, msg MeterMessage) ([]byte, error) {
	now := s.now()
	if err := s.touch(ctx, ms, msg, now); err != nil {
		return nil, err
	}
	reply := Reply{Commands: []CommandMessage{}, ServerTime: now.UTC()}
	upload := UploadResult{}
	var err error
	switch msg.Type {
	case MsgHello:
		err = s.handleHello(ctx, &ms, msg, now)
	case MsgUpload:
		upload, err = s.handleUpload(ctx, ms, msg.Records)
	case MsgAck:
		err = s.handleAcks(ctx, ms, msg.Acks)
	case MsgBye:
		err = s.handleBye(ctx, ms)
	}
	if err != nil {
		return nil, err
	}
	sinkSeq, err := s.flushRecords(ctx, ms)
	if err != nil {
		return nil, err
	}
	upload.AcceptedThrough = sinkSeq
	reply.Upload = &upload
	if _, err := s.flushAcks(ctx, ms); err != nil {
		return nil, err
	}
	if msg.Type != MsgBye {
		if reply.Commands, err = s.deliver(ctx, ms, now); err != nil {
			return nil, err
		}
		if len(reply.Commands) > 0 {
			// If the session ends without outcomes, the wake step finds them
			// in doubt and wakes the meter again.
			if err := s.armWake(ctx, ms.ID, now.Add(s.cfg.SessionIdle+time.Millisecond)); err != nil {
				return nil, err
			}
		}
	}
	body, err := json.Marshal(reply)
	if err != nil {
		return nil, fmt.Errorf("devicelink: encode reply: %w", err)
	}
	return s.sealReply(ctx, ms, epoch, master, body)
}

// touch records the exchange and ends the meter's wake episode. A hello
// with reason wake that matches no wake attempt within the connect-back
// deadline is a security event (the wake signal carries no authority, but an
// unexpected wake hello means someone else rings the meter or it misreads
// caller ids).
func (s *Service) touch(ctx context.Context, ms meterState, msg MeterMessage, now time.Time) error {
	res, err := scriptTouch.Run(ctx, s.rdb, []string{keyMeter(ms.ID)},
		formatTime(now), now.UnixMilli(), msg.Type, s.cfg.ConnectBackDeadline.Milliseconds()).Slice()
	if err != nil {
		return fmt.Errorf("devicelink: touch %s: %w", ms.ID, err)
	}
	matched, _ := res[0].(string)
	prevSeen, _ := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	wasMissing, _ := res[2].(int64)
	// The seen index is a global key, refreshed after the meter's hash (at
	// most once a minute); a meter back from missing is put back in it at
	// once, which also repairs an index a crash left behind.
	if now.UnixMilli()-prevSeen >= time.Minute.Milliseconds() || wasMissing == 1 {
		if err := s.rdb.ZAdd(ctx, keySeen, redis.Z{Score: float64(now.UnixMilli()), Member: ms.ID}).Err(); err != nil {
			return fmt.Errorf("devicelink: seen index: %w", err)
		}
	}
	if wasMissing == 1 {
		if err := s.statusEvent(ctx, ms.ID, StatusBack, "the meter is in contact again"); err != nil {
			return err
		}
	}
	if matched != "" {
		if err := s.wakeConnected(ctx, matched, now); err != nil {
			return err
		}
	}
	if msg.Type == MsgHello && msg.Reason == ReasonWake && matched == "" {
		s.log.WarnContext(ctx, "wake hello matches no wake attempt", "meter", ms.ID)
		return s.securityEvent(ctx, ms.ID, SecurityUnsolicitedWake,
			"hello with reason wake matches no wake call within the connect-back deadline")
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
