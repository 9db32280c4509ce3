package ivr

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// Caller places conversation calls through twilio-go. It implements
// workflows.Sender for the voice channel and is idempotent per effect: the
// intent is recorded before calling, and an attempt whose outcome is
// unknown is resolved by listing the calls to that number.
type Caller struct {
	Config   Config
	Settings *engine.Settings
	Client   *twilio.RestClient
	Redis    redis.UniversalClient
	Now      func() time.Time
	Log      *slog.Logger
}

var _ workflows.Sender = (*Caller)(nil)

// Send implements workflows.Sender: it places the call; the answer webhook
// speaks the message and takes the keys.
func (c *Caller) Send(ctx context.Context, req workflows.SendRequest) error {
	m := req.Send
	key := keyOut(req.EffectID)
	log := c.Log.With("conv", req.Conv, "task", req.EffectID, "to", engine.MaskPhone(m.To), "template", m.Template)
	now := c.Now()
	if created, err := c.Redis.HSetNX(ctx, key, "status", "intent").Result(); err != nil {
		return err
	} else if created {
		c.Redis.HSet(ctx, key, "conv", req.Conv, "to", m.To, "template", m.Template, "created_ms", now.UnixMilli())
		c.Redis.Expire(ctx, key, 7*24*time.Hour)
	}
	rec, err := c.Redis.HGetAll(ctx, key).Result()
	if err != nil {
		return err
	}
	if rec["sid"] != "" {
		return nil
	}
	if !m.ValidUntil.IsZero() && !now.Before(m.ValidUntil) {
		log.InfoContext(ctx, "call not placed: no longer valid")
		return workflows.ErrExpired(engine.ChannelVoice)
	}
	if rec["attempted"] == "1" {
		if sid, err := c.lookup(ctx, m.To, rec); err != nil {
			return &workflows.SendError{Message: "lookup after an unknown outcome: " + err.Error(), Temporary: true}
		} else if sid != "" {
			c.Redis.HSet(ctx, key, "sid", sid)
			log.InfoContext(ctx, "previous attempt had placed the call", "call", sid)
			return nil
		}
	}
	c.Redis.HSet(ctx, key, "attempted", "1")
	q := url.Values{"conv": {req.Conv}, "send": {req.EffectID}}
	base := c.Config.PublicURL + "/twilio/voice"
	v := c.Settings.Voice
	p := &api.CreateCallParams{}
	p.SetTo(m.To)
	p.SetFrom(c.Config.From)
	p.SetUrl(base + "/answer?" + q.Encode())
	p.SetMethod("POST")
	p.SetStatusCallback(base + "/status?" + q.Encode())
	p.SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"})
	p.SetStatusCallbackMethod("POST")
	p.SetMachineDetection("DetectMessageEnd")
	p.SetTimeout(int(v.RingTimeout / time.Second))
	p.SetTimeLimit(int(v.MaxCall / time.Second))
	call, err := c.Client.Api.CreateCall(p)
	if err != nil {
		se := classify(err)
		var te *client.TwilioRestError
		if errors.As(err, &te) {
			c.Redis.HSet(ctx, key, "attempted", "0")
		}
		log.WarnContext(ctx, "carrier refused call", "code", se.Code, "temporary", se.Temporary)
		return se
	}
	sid := ""
	if call.Sid != nil {
		sid = *call.Sid
	}
	c.Redis.HSet(ctx, key, "sid", sid, "status", "queued")
	log.InfoContext(ctx, "call placed", "call", sid)
	return nil
}

// lookup finds a call to the same number created since the intent.
func (c *Caller) lookup(ctx context.Context, to string, rec map[string]string) (string, error) {
	since := c.Now().Add(-time.Hour)
	if ms, err := strconv.ParseInt(rec["created_ms"], 10, 64); err == nil {
		since = time.UnixMilli(ms).Add(-time.Minute)
	}
	p := &api.ListCallParams{}
	p.SetTo(to)
	p.SetFrom(c.Config.From)
	p.SetStartTimeAfter(since.UTC().Truncate(24 * time.Hour))
	p.SetLimit(20)
	calls, err := c.Client.Api.ListCall(p)
	if err != nil {
		return "", err
	}
	for _, cl := range calls {
		if cl.Sid != nil && cl.DateCreated != nil {
			if t, err := time.Parse(time.RFC1123Z, *cl.DateCreated); err == nil && !t.Before(since) {
				return *cl.Sid, nil
			}
		}
	}
	return "", nil
}

// classify turns a carrier error into the one typed send error.
func classify(err error) *workflows.SendError {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		se := &workflows.SendError{Code: te.Code, Message: te.Message}
		se.Temporary = te.Status == 429 || te.Status >= 500 || te.Code == 20429
		return se
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return &workflows.SendError{Message: "outcome unknown: " + err.Error(), Temporary: true}
	}
	return &workflows.SendError{Message: err.Error(), Temporary: true}
}
