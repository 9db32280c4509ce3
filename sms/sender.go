package sms

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

//go:embed lua/status.lua
var statusLua string

var statusScript = redis.NewScript(statusLua)

// Config configures outbound SMS.
type Config struct {
	// From is the platform's sending number (E.164).
	From string
	// PublicURL is the externally visible base URL for status callbacks.
	PublicURL string
	// PerSecond is how many messages one sending number may send per second
	// (long code about 1, short code about 100).
	PerSecond int
	// MaxSegments is the segment budget of every template.
	MaxSegments int
}

// DefaultConfig returns long-code pacing and a two-segment budget.
func DefaultConfig() Config { return Config{PerSecond: 1, MaxSegments: 2} }

// Metrics are the SMS counters; register them with Collectors.
type Metrics struct {
	Sent     *prometheus.CounterVec
	Segments *prometheus.CounterVec
	Inbound  *prometheus.CounterVec
	Statuses *prometheus.CounterVec
	// StatusUnknown counts status callbacks for messages the service did not
	// send, by reason (no_mid, unknown_mid).
	StatusUnknown *prometheus.CounterVec
	// StoreUnavailable counts inbound messages answered with a request to
	// send again because Redis could not be reached.
	StoreUnavailable prometheus.Counter
}

// NewMetrics creates the SMS metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Sent:             prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_sms_sent_total", Help: "Outbound SMS by template and result."}, []string{"template", "result"}),
		Segments:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_sms_segments_total", Help: "Outbound SMS segments by encoding."}, []string{"encoding"}),
		Inbound:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_sms_inbound_total", Help: "Inbound SMS by outcome."}, []string{"outcome"}),
		Statuses:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_sms_status_callbacks_total", Help: "Status callbacks by status and whether they changed anything."}, []string{"status", "applied"}),
		StatusUnknown:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_sms_status_unknown_total", Help: "Status callbacks for messages not sent by this service, by reason."}, []string{"reason"}),
		StoreUnavailable: prometheus.NewCounter(prometheus.CounterOpts{Name: "ppp_sms_store_unavailable_total", Help: "Inbound SMS not recorded because Redis was unreachable; the driver was asked to send again."}),
	}
}

// Collectors returns the metrics for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Sent, m.Segments, m.Inbound, m.Statuses, m.StatusUnknown, m.StoreUnavailable}
}

// Sender sends conversation messages through twilio-go. It implements
// workflows.Sender and is idempotent per effect id: the intent is recorded
// before calling the carrier, and an attempt whose outcome is unknown is
// resolved by looking the message up, never by sending blindly again.
type Sender struct {
	Config   Config
	Client   *twilio.RestClient
	Redis    redis.UniversalClient
	Registry OptOuts
	Metrics  *Metrics
	Now      func() time.Time
	Log      *slog.Logger
}

var _ workflows.Sender = (*Sender)(nil)

// OptOuts tells whether a phone sent STOP (the registry).
type OptOuts interface {
	OptedOut(ctx context.Context, phone string) (bool, error)
}

// Send implements workflows.Sender.
func (s *Sender) Send(ctx context.Context, req workflows.SendRequest) error {
	m := req.Send
	key := keyOut(req.EffectID)
	log := s.Log.With("conv", req.Conv, "task", req.EffectID, "to", engine.MaskPhone(m.To), "template", m.Template)
	now := s.Now()
	created, err := s.Redis.HSetNX(ctx, key, "status", "intent").Result()
	if err != nil {
		return err
	}
	if created {
		var validMS int64
		if !m.ValidUntil.IsZero() {
			validMS = m.ValidUntil.UnixMilli()
		}
		if err := s.Redis.HSet(ctx, key, "conv", req.Conv, "to", m.To, "body", m.Body, "template", m.Template,
			"rank", statusRank["intent"], "created_ms", now.UnixMilli(), "valid_until_ms", validMS).Err(); err != nil {
			return err
		}
		s.Redis.Expire(ctx, key, 7*24*time.Hour)
	}
	rec, err := s.Redis.HGetAll(ctx, key).Result()
	if err != nil {
		return err
	}
	if rec["sid"] != "" || rec["status"] != "intent" {
		log.DebugContext(ctx, "message already handed to the carrier", "sid", rec["sid"], "status", rec["status"])
		return nil
	}
	if out, err := s.Registry.OptedOut(ctx, m.To); err != nil {
		return err
	} else if out {
		s.finish(ctx, key, "suppressed", "")
		s.Metrics.Sent.WithLabelValues(m.Template, "suppressed").Inc()
		log.InfoContext(ctx, "not sent: recipient opted out")
		return nil
	}
	if rec["attempted"] == "1" {
		// A previous attempt may have reached the carrier: look before sending.
		if sid, err := s.lookup(ctx, m, rec); err != nil {
			return &workflows.SendError{Code: 0, Message: "lookup after an unknown outcome: " + err.Error(), Temporary: true}
		} else if sid != "" {
			log.InfoContext(ctx, "previous attempt had reached the carrier", "sid", sid)
			s.accepted(ctx, key, sid)
			return nil
		}
	}
	if err := s.pace(ctx); err != nil {
		return err
	}
	// Measured after pacing, on the service's clock: the carrier may hold the
	// text no longer than what it refers to lasts.
	period, ok := validity(m.ValidUntil, s.Now())
	if !ok {
		s.finish(ctx, key, "expired", "")
		s.Metrics.Sent.WithLabelValues(m.Template, "expired").Inc()
		log.InfoContext(ctx, "not sent: what it refers to is over", "valid_until", m.ValidUntil)
		return &workflows.SendError{Message: ExpiredMessage, Expired: true}
	}
	s.Redis.HSet(ctx, key, "attempted", "1")
	params := &api.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetFrom(s.Config.From)
	params.SetBody(m.Body)
	params.SetStatusCallback(strings.TrimRight(s.Config.PublicURL, "/") + "/twilio/sms/status?mid=" + url.QueryEscape(req.EffectID))
	if period > 0 {
		params.SetValidityPeriod(period)
	}
	msg, err := s.Client.Api.CreateMessage(params)
	if err != nil {
		se := classify(err)
		var te *client.TwilioRestError
		if errors.As(err, &te) {
			// The carrier answered, so it did not create the message.
			s.Redis.HSet(ctx, key, "attempted", "0")
		}
		if !se.Temporary {
			s.finish(ctx, key, "failed", strconv.Itoa(se.Code))
		}
		s.Metrics.Sent.WithLabelValues(m.Template, "error").Inc()
		log.WarnContext(ctx, "carrier refused message", "code", se.Code, "temporary", se.Temporary)
		return se
	}
	enc, segs, _ := Segments(m.Body)
	s.Metrics.Segments.WithLabelValues(enc.String()).Add(float64(segs))
	s.Metrics.Sent.WithLabelValues(m.Template, "accepted").Inc()
	sid := ""
	if msg.Sid != nil {
		sid = *msg.Sid
	}
	s.accepted(ctx, key, sid)
	log.InfoContext(ctx, "message accepted by carrier", "sid", sid, "segments", segs, "encoding", enc.String())
	return nil
}

// Twilio's ValidityPeriod bounds, in whole seconds.
const (
	minValidity = 1
	maxValidity = 36000
)

// ExpiredMessage is the message of the permanent send error returned for a
// text whose deadline passed before it could be handed to the carrier.
const ExpiredMessage = "expired: what the message refers to is over"

// validity is Twilio's ValidityPeriod for a text that must not be delivered
// after until: the whole seconds left, rounded down so that it never reaches
// past until, at most Twilio's 36000. ok is false when less than Twilio's
// minimum of one second is left: the text is not sent at all, because even
// the shortest validity would let it arrive after what it refers to is over
// (rounding up to the minimum would break the very bound it exists for).
// A zero until means no deadline: period 0, Twilio's default applies.
func validity(until, now time.Time) (period int, ok bool) {
	if until.IsZero() {
		return 0, true
	}
	s := int64(until.Sub(now) / time.Second)
	if s < minValidity {
		return 0, false
	}
	return int(min(s, maxValidity)), true
}

func (s *Sender) accepted(ctx context.Context, key, sid string) {
	s.Redis.HSet(ctx, key, "sid", sid)
	statusScript.Run(ctx, s.Redis, []string{key}, "queued", statusRank["queued"], "", s.Now().UnixMilli(), sid)
}

func (s *Sender) finish(ctx context.Context, key, status, code string) {
	statusScript.Run(ctx, s.Redis, []string{key}, status, statusRank[status], code, s.Now().UnixMilli(), "")
}

// lookup finds a message this sender may already have created: same To,
// From and body, sent since the intent was recorded.
func (s *Sender) lookup(ctx context.Context, m engine.Send, rec map[string]string) (string, error) {
	since := s.Now().Add(-time.Hour)
	if ms, err := strconv.ParseInt(rec["created_ms"], 10, 64); err == nil {
		since = time.UnixMilli(ms).Add(-time.Minute)
	}
	p := &api.ListMessageParams{}
	p.SetTo(m.To)
	p.SetFrom(s.Config.From)
	p.SetDateSentAfter(since.UTC().Truncate(24 * time.Hour))
	p.SetLimit(50)
	list, err := s.Client.Api.ListMessage(p)
	if err != nil {
		return "", err
	}
	for _, msg := range list {
		if msg.Body != nil && *msg.Body == m.Body && msg.Sid != nil {
			return *msg.Sid, nil
		}
	}
	return "", nil
}

// pace keeps the sending number within its rate: a per-second counter in
// Redis shared by every worker.
func (s *Sender) pace(ctx context.Context) error {
	if s.Config.PerSecond <= 0 {
		return nil
	}
	for range 50 {
		sec := s.Now().Unix()
		k := keyPace(s.Config.From, sec)
		n, err := s.Redis.Incr(ctx, k).Result()
		if err != nil {
			return err
		}
		s.Redis.Expire(ctx, k, 2*time.Second)
		if n <= int64(s.Config.PerSecond) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Unix(sec+1, 0).Sub(s.Now())): // the next second on the service's clock
		}
	}
	return &workflows.SendError{Message: "sending number saturated", Temporary: true}
}

// classify turns a carrier error into the one typed send error.
func classify(err error) *workflows.SendError {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		se := &workflows.SendError{Code: te.Code, Message: te.Message}
		switch {
		case te.Code == ErrCodeOptedOut:
			se.OptOut = true
		case permanentCodes[te.Code]:
		case te.Status == 429 || te.Status >= 500 || te.Code == 20429:
			se.Temporary = true
		case te.Status >= 400:
		default:
			se.Temporary = true
		}
		return se
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return &workflows.SendError{Message: "outcome unknown: " + err.Error(), Temporary: true}
	}
	return &workflows.SendError{Message: err.Error(), Temporary: true}
}
