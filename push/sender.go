package push

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// NoDevice is the SendError message of a push that reached no device
// because the user has none (left); the conversation moves to its next
// channel.
const NoDevice = "no device"

// Send intent statuses.
const (
	intentPending = "intent"
	intentSent    = "sent"
	intentFailed  = "failed"
	intentExpired = "expired"
)

// Metrics are the push counters; register them with Collectors.
type Metrics struct {
	Sent *prometheus.CounterVec
}

// NewMetrics creates the push metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_push_sent_total", Help: "Pushes per device by platform and result."}, []string{"platform", "result"}),
	}
}

// Collectors returns the metrics for registration.
func (m *Metrics) Collectors() []prometheus.Collector { return []prometheus.Collector{m.Sent} }

func (m *Metrics) count(p Platform, result string) {
	if m != nil {
		m.Sent.WithLabelValues(string(p), result).Inc()
	}
}

// Sender sends conversation messages as push notifications to every device
// of the driver. It implements workflows.Sender for the "push" channel and
// is idempotent per effect id: a device that got the message is not sent it
// again, and a message sent to any device is done.
type Sender struct {
	Config    Config
	Providers map[Platform]Provider
	Devices   *Devices
	// Conversations find the driver's user and give the conversation's
	// meter, bay and expiry.
	Conversations workflows.Conversations
	Redis         redis.UniversalClient
	Metrics       *Metrics
	Now           func() time.Time
	Log           *slog.Logger
}

var _ workflows.Sender = (*Sender)(nil)

// Send implements workflows.Sender.
func (s *Sender) Send(ctx context.Context, req workflows.SendRequest) error {
	m := req.Send
	log := s.Log.With("conv", req.Conv, "task", req.EffectID, "channel", engine.ChannelPush, "to", engine.MaskPhone(m.To), "template", m.Template)
	key := keyIntent(req.EffectID)
	now := s.Now()
	created, err := s.Redis.HSetNX(ctx, key, "status", intentPending).Result()
	if err != nil {
		return err
	}
	if created {
		if err := s.Redis.HSet(ctx, key, "conv", req.Conv, "template", m.Template, "created_ms", now.UnixMilli()).Err(); err != nil {
			return err
		}
		s.Redis.Expire(ctx, key, s.Config.withDefaults().IntentTTL)
	}
	rec, err := s.Redis.HGetAll(ctx, key).Result()
	if err != nil {
		return err
	}
	switch rec["status"] {
	case intentSent, intentExpired:
		log.DebugContext(ctx, "push already done", "status", rec["status"])
		return nil
	case intentFailed:
		code, _ := strconv.Atoi(rec["code"])
		return &workflows.SendError{Code: code, Message: rec["reason"]}
	}
	if !m.ValidUntil.IsZero() && !now.Before(m.ValidUntil) {
		s.Redis.HSet(ctx, key, "status", intentExpired)
		log.InfoContext(ctx, "not pushed: no longer valid")
		return workflows.ErrExpired(engine.ChannelPush)
	}
	u, err := s.Conversations.DriverByPhone(ctx, m.To)
	if errors.Is(err, workflows.ErrNotFound) {
		return s.fail(ctx, key, log, NoDevice)
	}
	if err != nil {
		return err
	}
	devices, err := s.Devices.List(ctx, u.ID)
	if err != nil {
		return err
	}
	var st *engine.State
	if req.Conv != "" {
		if got, err := s.Conversations.Conversation(ctx, req.Conv); err == nil {
			st = &got
		} else if !errors.Is(err, workflows.ErrNotFound) {
			return err
		}
	}
	base := s.Config.Compose(req.Conv, req.EffectID, m, st, now)
	var delivered, invalid int
	var temporary, permanent *workflows.SendError
	for _, d := range devices {
		field := "dev:" + d.Token
		if strings.HasPrefix(rec[field], "sent:") {
			delivered++
			continue
		}
		p, ok := s.Providers[d.Platform]
		if !ok {
			log.WarnContext(ctx, "no push provider for a registered platform", "platform", d.Platform)
			permanent = &workflows.SendError{Message: "no provider for " + string(d.Platform)}
			continue
		}
		n := base
		n.Token = d.Token
		id, err := p.Send(ctx, n)
		var se *workflows.SendError
		switch {
		case err == nil:
			delivered++
			s.Redis.HSet(ctx, key, field, "sent:"+id)
			s.Metrics.count(d.Platform, "sent")
			log.InfoContext(ctx, "pushed", "platform", d.Platform, "device", maskToken(d.Token), "id", id)
		case errors.Is(err, ErrInvalidToken):
			invalid++
			s.Redis.HSet(ctx, key, field, "invalid")
			s.Metrics.count(d.Platform, "invalid_token")
			if rerr := s.Devices.Remove(ctx, u.ID, d.Token); rerr != nil && !errors.Is(rerr, ErrDeviceNotFound) {
				return rerr
			}
			log.InfoContext(ctx, "device token invalid; removed", "platform", d.Platform, "device", maskToken(d.Token), "err", err)
		case errors.As(err, &se) && !se.Temporary:
			permanent = se
			s.Redis.HSet(ctx, key, field, "error")
			s.Metrics.count(d.Platform, "error")
			log.WarnContext(ctx, "push refused", "platform", d.Platform, "device", maskToken(d.Token), "code", se.Code, "err", err)
		default:
			if !errors.As(err, &se) {
				se = &workflows.SendError{Message: err.Error(), Temporary: true}
			}
			temporary = se
			s.Metrics.count(d.Platform, "temporary")
			log.WarnContext(ctx, "push failed, will retry", "platform", d.Platform, "device", maskToken(d.Token), "code", se.Code, "err", err)
		}
	}
	switch {
	case delivered > 0:
		s.Redis.HSet(ctx, key, "status", intentSent)
		return nil
	case temporary != nil:
		return temporary
	case permanent != nil:
		s.finishFailed(ctx, key, permanent.Code, permanent.Message)
		return &workflows.SendError{Code: permanent.Code, Message: permanent.Message}
	}
	return s.fail(ctx, key, log, NoDevice)
}

// fail records a permanent failure of the send and returns it.
func (s *Sender) fail(ctx context.Context, key string, log *slog.Logger, reason string) error {
	s.finishFailed(ctx, key, 0, reason)
	log.InfoContext(ctx, "not pushed", "reason", reason)
	return &workflows.SendError{Code: 0, Message: reason}
}

func (s *Sender) finishFailed(ctx context.Context, key string, code int, reason string) {
	s.Redis.HSet(ctx, key, "status", intentFailed, "code", code, "reason", reason)
}

// maskToken shows the last six characters of a device token, for logs.
func maskToken(t string) string {
	if len(t) <= 6 {
		return "…"
	}
	return "…" + t[len(t)-6:]
}
