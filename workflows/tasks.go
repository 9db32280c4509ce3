package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"ppprenew/workflows/engine"
	"ppprenew/workflows/payment"
)

// Task type names. Every effect leaves through the outbox (outbox.go) and
// becomes one task whose asynq TaskID is the effect id, so a duplicate
// enqueue is recognised and counts as done.
const (
	TaskSend   = "ppp:send"
	TaskTimer  = "ppp:timer"
	TaskCharge = "ppp:charge"
	TaskMeter  = "ppp:meter_renew"
	TaskAlert  = "ppp:operator_alert"
)

// TaskConfig tunes how effects become tasks.
type TaskConfig struct {
	// Queue is the asynq queue for conversation tasks.
	Queue string
	// Retention keeps completed tasks (and so their ids) this long, so an
	// effect enqueued again after it ran is still recognised. The outbox
	// hands an effect over again only when its dispatcher died between the
	// enqueue and the acknowledgement, and another claims it within
	// seconds, so an hour is ample.
	Retention time.Duration
	// MaxRetry is the number of retries of sends, charges and meter commands.
	MaxRetry int
}

// DefaultTaskConfig returns the production task settings.
func DefaultTaskConfig() TaskConfig {
	return TaskConfig{Queue: "ppp", Retention: time.Hour, MaxRetry: 8}
}

// TaskQueue enqueues effects as asynq tasks.
type TaskQueue struct {
	Client *asynq.Client
	Config TaskConfig
	// Now is the service's clock (time.Now when nil). A timer's due time is
	// on this clock, so the task is scheduled after the delay it leaves,
	// not at the same instant on the machine's clock.
	Now func() time.Time
}

// taskPayload is the payload of every conversation task.
type taskPayload struct {
	Conv   string        `json:"conv"`
	Effect engine.Effect `json:"effect"`
}

var taskTypes = map[engine.EffectKind]string{
	engine.EffectSend: TaskSend, engine.EffectArmTimer: TaskTimer, engine.EffectCharge: TaskCharge,
	engine.EffectRenewMeter: TaskMeter, engine.EffectOperatorAlert: TaskAlert,
}

func (q *TaskQueue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// Enqueue implements EffectQueue. A task id that already exists is success.
func (q *TaskQueue) Enqueue(ctx context.Context, convID string, effects []engine.Effect) error {
	for _, e := range effects {
		b, err := json.Marshal(taskPayload{Conv: convID, Effect: e})
		if err != nil {
			return err
		}
		opts := []asynq.Option{asynq.TaskID(e.ID), asynq.Queue(q.Config.Queue), asynq.Retention(q.Config.Retention), asynq.MaxRetry(q.Config.MaxRetry)}
		if e.Timer != nil {
			opts = append(opts, asynq.ProcessIn(e.Timer.At.Sub(q.now())))
		}
		_, err = q.Client.EnqueueContext(ctx, asynq.NewTask(taskTypes[e.Kind], b), opts...)
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue %s: %w", e.ID, err)
		}
	}
	return nil
}

// SendRequest is one message for a channel sender.
type SendRequest struct {
	Conv     string
	EffectID string
	Send     engine.Send
}

// SendError is the one error type senders return; the provider states the
// facts and the task handler decides what to do.
type SendError struct {
	Code    int
	Message string
	// Temporary errors (throttling, 5xx, timeouts) are retried.
	Temporary bool
	// OptOut means the recipient opted out at the carrier (Twilio 21610).
	OptOut bool
	// Expired means the message was no longer valid (Send.ValidUntil)
	// before it could be handed over, so it was not sent.
	Expired bool
}

// ErrExpired is the SendError of a message not sent because it was no
// longer valid; every channel returns it the same way.
func ErrExpired(channel string) *SendError {
	return &SendError{Message: channel + " message no longer valid; not sent", Expired: true}
}

func (e *SendError) Error() string { return fmt.Sprintf("send failed: %d %s", e.Code, e.Message) }

// Retryable reports whether sending again may succeed.
func (e *SendError) Retryable() bool { return e.Temporary }

// Sender delivers messages on one channel; it must be idempotent per EffectID.
type Sender interface {
	Send(ctx context.Context, req SendRequest) error
}

// MeterCommander sends renewal commands to meters; idempotent per CommandID.
type MeterCommander interface {
	Renew(ctx context.Context, m engine.MeterEffect) error
}

// Handlers carries effects out. Results feed back into the conversation
// through the Runner.
type Handlers struct {
	Runner  *Runner
	Senders map[string]Sender
	Gateway payment.Gateway
	Meters  MeterCommander
	Log     *slog.Logger
	// Metrics counts messages that ended undelivered, by channel and
	// reason (failed, expired, exhausted); optional.
	Metrics *prometheus.CounterVec
}

// NewUndeliveredMetric is the counter for Handlers.Metrics.
func NewUndeliveredMetric() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppp_messages_undelivered_total",
		Help: "Messages that ended without delivery, by channel and reason (failed, expired, exhausted)."}, []string{"channel", "reason"})
}

// Register mounts the handlers on an asynq mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TaskSend, h.send)
	mux.HandleFunc(TaskTimer, h.timer)
	mux.HandleFunc(TaskCharge, h.charge)
	mux.HandleFunc(TaskMeter, h.meter)
	mux.HandleFunc(TaskAlert, h.alert)
}

func decode(t *asynq.Task) (taskPayload, error) {
	var p taskPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
	}
	return p, nil
}

func lastAttempt(ctx context.Context) bool {
	n, ok1 := asynq.GetRetryCount(ctx)
	max, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && n >= max
}

// send hands one message to its channel. Every send that ends without
// delivery becomes an input of its conversation, whatever the channel: a
// permanent refusal or an expired message at once, and a temporary failure
// (or an outcome the channel could not settle by lookup) when its last
// retry fails. The conversation then decides (sendFailed): the next
// channel, a text, or an operator alert. Nothing is archived unheard.
func (h *Handlers) send(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	s := p.Effect.Send
	sender, ok := h.Senders[s.Channel]
	if !ok {
		return fmt.Errorf("%w: no sender for channel %q", asynq.SkipRetry, s.Channel)
	}
	err = sender.Send(ctx, SendRequest{Conv: p.Conv, EffectID: p.Effect.ID, Send: *s})
	if err == nil {
		return nil
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Message: err.Error(), Temporary: true}
	}
	reason := engine.SendFailedPermanently
	switch {
	case se.Expired:
		reason = engine.SendExpired
	case se.Retryable() && !lastAttempt(ctx):
		return err
	case se.Retryable():
		reason = engine.SendExhausted
	}
	if p.Conv != "" {
		in := engine.Input{Kind: engine.InputSendFailed, Send: &engine.SendFailure{EffectID: p.Effect.ID, Code: se.Code, OptOut: se.OptOut, Channel: s.Channel, Template: s.Template, Reason: reason}}
		if se.OptOut {
			if err := h.Runner.OptOut(ctx, s.To); err != nil {
				return err
			}
		} else if _, err := h.Runner.Apply(ctx, p.Conv, in); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	if h.Metrics != nil {
		h.Metrics.WithLabelValues(s.Channel, reason).Inc()
	}
	h.Log.WarnContext(ctx, "message not delivered", "conv", p.Conv, "task", p.Effect.ID, "channel", s.Channel, "reason", reason, "code", se.Code, "err", err)
	return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
}

func (h *Handlers) timer(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	in := engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: p.Effect.Timer.Kind, ID: p.Effect.ID}}
	_, err = h.Runner.Apply(ctx, p.Conv, in)
	if errors.Is(err, ErrNotFound) {
		return nil // the conversation was removed after it ended
	}
	return err
}

// charge calls the gateway with the renewal's idempotency key. An
// unavailable gateway is retried with the same key (the gateway client
// resolves an unanswered POST by lookup). When the retries run out, an
// outcome the gateway could not tell is reported as unknown, never as
// "nothing charged"; the conversation then reconciles it by lookup alone
// (Lookup effects), so the card is never posted to again for it.
func (h *Handlers) charge(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	c := p.Effect.Charge
	res := engine.ChargeResult{Key: c.Key}
	var ch payment.Charge
	if c.Lookup {
		ch, err = h.Gateway.Lookup(ctx, c.Key)
		switch {
		case err == nil:
			res.Outcome, res.ChargeID = engine.ChargeSucceeded, ch.ID
		case errors.Is(err, payment.ErrNotFound):
			res.Outcome = engine.ChargeUnavailable // never recorded: nothing was charged
		case payment.IsDecline(err):
			res.Outcome = chargeOutcome(err)
		default:
			h.Log.WarnContext(ctx, "charge still unresolved", "conv", p.Conv, "task", c.Key, "err", err)
			res.Outcome = engine.ChargeUnknown
		}
		_, err = h.Runner.Apply(ctx, p.Conv, engine.Input{Kind: engine.InputCharge, Charge: &res})
		return err
	}
	ch, err = h.Gateway.Charge(ctx, payment.ChargeRequest{
		IdempotencyKey: c.Key, CardToken: c.CardToken, AmountMinor: int64(c.Amount), Currency: c.Currency,
		Description: "parking renewal " + p.Conv,
	})
	switch {
	case err == nil:
		res.Outcome, res.ChargeID = engine.ChargeSucceeded, ch.ID
	case payment.Retryable(err) && !lastAttempt(ctx):
		h.Log.WarnContext(ctx, "charge outcome unknown, will retry with the same key", "conv", p.Conv, "task", c.Key, "err", err)
		return err
	default:
		res.Outcome = chargeOutcome(err)
	}
	_, err = h.Runner.Apply(ctx, p.Conv, engine.Input{Kind: engine.InputCharge, Charge: &res})
	return err
}

func chargeOutcome(err error) engine.ChargeOutcome {
	switch {
	case payment.OutcomeUnknown(err):
		return engine.ChargeUnknown
	case errors.Is(err, payment.ErrInsufficientFunds):
		return engine.ChargeInsufficient
	case errors.Is(err, payment.ErrCardExpired):
		return engine.ChargeCardExpired
	case errors.Is(err, payment.ErrBlacklisted):
		return engine.ChargeBlacklisted
	case errors.Is(err, payment.ErrDebitNotSupported):
		return engine.ChargeDebit
	case errors.Is(err, payment.ErrDeclined):
		return engine.ChargeDeclined
	}
	return engine.ChargeUnavailable
}

func (h *Handlers) meter(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	return h.Meters.Renew(ctx, *p.Effect.Meter)
}

func (h *Handlers) alert(ctx context.Context, t *asynq.Task) error {
	p, err := decode(t)
	if err != nil {
		return err
	}
	h.Log.WarnContext(ctx, "operator alert", "conv", p.Conv, "code", p.Effect.Alert.Code, "message", p.Effect.Alert.Message)
	return h.Runner.Registry.RaiseAlert(ctx, p.Effect.ID, Alert{At: h.Runner.Now(), Conv: p.Conv, AlertEffect: *p.Effect.Alert})
}
