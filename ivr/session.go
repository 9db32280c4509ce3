package ivr

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/engine"
)

// Redis keys of the voice channel:
//
//	ppp:ivr:call:{CallSid}            call session JSON (2 h)
//	ppp:ivr:status:{CallSid}          last call status, terminal statuses never replaced (2 h)
//	ppp:ivr:resp:{CallSid}:{step}     the TwiML answered for a step, replayed to duplicates (2 h)
//	ppp:ivr:lock:{CallSid}:{step}     a step being answered (30 s)
//	ppp:ivr:answered:{CallSid}:{step} pub/sub channel: a step's answer, to duplicates waiting for it
//	ppp:ivr:out:{effect}              an outbound call's intent and sid (7 days)
//	ppp:ivr:fallback:{effect}         the SMS fallback of a call, or the end of an answered call, was reported (7 days)
//	ppp:ivr:pin:{user}                wrong PIN count (until the lockout ends)
//	ppp:ivr:pinlock:{user}            voice confirmation locked
const callTTL = 2 * time.Hour

// call is what the platform remembers about one call between webhooks.
type call struct {
	Sid      string        `json:"sid"`
	Conv     string        `json:"conv,omitempty"`
	Send     string        `json:"send,omitempty"`
	Template string        `json:"template,omitempty"`
	Lang     string        `json:"lang"`
	Phone    string        `json:"phone,omitempty"`
	UserID   string        `json:"user_id,omitempty"`
	Step     int           `json:"step"`
	Kind     engine.Gather `json:"kind"` // the question asked last
	NoInput  int           `json:"no_input"`
	Holds    int           `json:"holds"`
	Meter    string        `json:"meter,omitempty"`
	Choices  []string      `json:"choices,omitempty"`
	Verified bool          `json:"verified,omitempty"`
	Answered bool          `json:"answered,omitempty"` // a key was pressed at least once
	Started  time.Time     `json:"started"`
}

var errNoCall = errors.New("no such call")

// sessionKey carries a call's session read with the step's lock (twiml),
// so the handler does not read it again.
type sessionKey struct{}

type prefetched struct {
	sid string
	cmd *redis.StringCmd
}

func withSession(ctx context.Context, sid string, cmd *redis.StringCmd) context.Context {
	return context.WithValue(ctx, sessionKey{}, prefetched{sid: sid, cmd: cmd})
}

func (w *Webhooks) loadCall(ctx context.Context, sid string) (call, error) {
	var raw string
	var err error
	if p, ok := ctx.Value(sessionKey{}).(prefetched); ok && p.sid == sid && p.cmd != nil {
		raw, err = p.cmd.Result()
	} else {
		raw, err = w.Redis.Get(ctx, keyCall(sid)).Result()
	}
	if errors.Is(err, redis.Nil) {
		return call{}, errNoCall
	}
	if err != nil {
		return call{}, err
	}
	var c call
	return c, json.Unmarshal([]byte(raw), &c)
}

func (w *Webhooks) saveCall(ctx context.Context, c call) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return w.Redis.Set(ctx, keyCall(c.Sid), b, callTTL).Err()
}
