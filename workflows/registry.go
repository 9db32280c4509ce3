package workflows

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"ppprenew/workflows/engine"

	"github.com/redis/go-redis/v9"
)

// Registry keeps registered users, blacklists, SMS opt-outs and operator
// alerts in Redis.
type Registry struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// ErrExists means a phone or card is already registered to another user.
var ErrExists = errors.New("already registered")

// ErrInvalidID means a user id is outside the safe charset
// ([A-Za-z0-9_-], 1 to 64 characters). Such an id cannot name a user, so
// it can never reach a key of the phone or card indexes.
var ErrInvalidID = errors.New("invalid user id")

var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidUserID reports whether id is a well-formed user id.
func ValidUserID(id string) bool { return userIDPattern.MatchString(id) }

//go:embed lua/put_user.lua
var putUserLua string

var putUserScript = redis.NewScript(putUserLua)

// putUserAttempts bounds the retries of a registration whose record
// changed between reading it and writing it.
const putUserAttempts = 10

// NewRegistry returns a registry on rdb.
func NewRegistry(rdb redis.UniversalClient, now func() time.Time) *Registry {
	return &Registry{rdb: rdb, now: now}
}

// PutUser registers or updates a user. A phone or card registered to
// another user is refused with ErrExists, an ill-formed id with
// ErrInvalidID. The record and its indexes change in one step: a phone or
// card the user no longer has stops pointing at the user.
func (r *Registry) PutUser(ctx context.Context, u engine.User) error {
	return r.putUser(ctx, u, false)
}

// UpdateUser changes a registered user like PutUser, and answers
// ErrNotFound when no user has that id.
func (r *Registry) UpdateUser(ctx context.Context, u engine.User) error {
	return r.putUser(ctx, u, true)
}

func (r *Registry) putUser(ctx context.Context, u engine.User, mustExist bool) error {
	if !ValidUserID(u.ID) {
		return fmt.Errorf("user %q: %w", u.ID, ErrInvalidID)
	}
	must := "0"
	if mustExist {
		must = "1"
	}
	for range putUserAttempts {
		oldRaw, err := r.rdb.Get(ctx, keyUser(u.ID)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		next := u
		oldPhone, oldCard := keyUserPhone(u.Phone), keyUserCard(u.CardToken)
		if oldRaw != "" {
			var old engine.User
			if err := json.Unmarshal([]byte(oldRaw), &old); err != nil {
				return fmt.Errorf("user %s: %w", u.ID, err)
			}
			oldPhone, oldCard = keyUserPhone(old.Phone), keyUserCard(old.CardToken)
			if next.CreatedAt.IsZero() {
				next.CreatedAt = old.CreatedAt
			}
		}
		if next.CreatedAt.IsZero() {
			next.CreatedAt = r.now()
		}
		b, err := json.Marshal(next)
		if err != nil {
			return err
		}
		res, err := putUserScript.Run(ctx, r.rdb,
			[]string{keyUser(u.ID), keyUserPhone(u.Phone), keyUserCard(u.CardToken), oldPhone, oldCard},
			u.ID, b, oldRaw, must).StringSlice()
		if err != nil {
			return fmt.Errorf("put user %s: %w", u.ID, err)
		}
		switch res[0] {
		case "ok":
			return nil
		case "missing":
			return fmt.Errorf("user %s: %w", u.ID, ErrNotFound)
		case "phone", "card":
			return fmt.Errorf("%s: %w to user %s", res[0], ErrExists, res[1])
		case "changed":
			continue
		default:
			return fmt.Errorf("put user %s: unexpected answer %q", u.ID, res)
		}
	}
	return fmt.Errorf("put user %s: %w", u.ID, ErrConflict)
}

// User loads a user by id. An ill-formed id names no user: ErrNotFound.
func (r *Registry) User(ctx context.Context, id string) (engine.User, error) {
	if !ValidUserID(id) {
		return engine.User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	raw, err := r.rdb.Get(ctx, keyUser(id)).Result()
	if errors.Is(err, redis.Nil) {
		return engine.User{}, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return engine.User{}, err
	}
	var u engine.User
	return u, json.Unmarshal([]byte(raw), &u)
}

// userBy follows an index key to its user. An entry whose user no longer
// has the phone or card (left by an earlier version) is not followed.
func (r *Registry) userBy(ctx context.Context, key string, holds func(engine.User) bool) (engine.User, error) {
	id, err := r.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return engine.User{}, ErrNotFound
	}
	if err != nil {
		return engine.User{}, err
	}
	u, err := r.User(ctx, id)
	if err != nil {
		return engine.User{}, err
	}
	if !holds(u) {
		return engine.User{}, ErrNotFound
	}
	return u, nil
}

// UserByPhone finds the user registered with an E.164 phone number.
func (r *Registry) UserByPhone(ctx context.Context, phone string) (engine.User, error) {
	return r.userBy(ctx, keyUserPhone(phone), func(u engine.User) bool { return u.Phone == phone })
}

// UserByCard finds the user whose registered card has this token.
func (r *Registry) UserByCard(ctx context.Context, token string) (engine.User, error) {
	return r.userBy(ctx, keyUserCard(token), func(u engine.User) bool { return u.CardToken == token })
}

// Blacklist adds a phone or card token with a reason (bad debt, stolen,
// cloned, expired); kind is "phone" or "card".
func (r *Registry) Blacklist(ctx context.Context, kind, value, reason string) error {
	key, err := blacklistKey(kind)
	if err != nil {
		return err
	}
	return r.rdb.HSet(ctx, key, value, reason).Err()
}

// Unblacklist removes a phone or card token from the blacklist.
func (r *Registry) Unblacklist(ctx context.Context, kind, value string) error {
	key, err := blacklistKey(kind)
	if err != nil {
		return err
	}
	return r.rdb.HDel(ctx, key, value).Err()
}

func blacklistKey(kind string) (string, error) {
	switch kind {
	case "phone":
		return keyBlacklistPhone, nil
	case "card":
		return keyBlacklistCard, nil
	}
	return "", fmt.Errorf("blacklist kind %q: must be phone or card", kind)
}

// Facts returns what the registry knows about a driver right now:
// blacklist reasons, whether they have the app, and SMS opt-out.
func (r *Registry) Facts(ctx context.Context, userID, phone, card string) (engine.Facts, error) {
	var fc factsCmds
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		fc = queueFacts(ctx, p, userID, phone, card)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return engine.Facts{Known: true}, err
	}
	return fc.facts()
}

// SetOptOut records that a phone opted out of (or back into) SMS.
func (r *Registry) SetOptOut(ctx context.Context, phone string, out bool) error {
	if out {
		return r.rdb.SAdd(ctx, keyOptOutSMS, phone).Err()
	}
	return r.rdb.SRem(ctx, keyOptOutSMS, phone).Err()
}

// OptedOut reports whether a phone opted out of SMS.
func (r *Registry) OptedOut(ctx context.Context, phone string) (bool, error) {
	return r.rdb.SIsMember(ctx, keyOptOutSMS, phone).Result()
}

// Alert is an operator alert raised by a conversation or by a meter's
// security events (then Conv is empty and Meter names the meter).
type Alert struct {
	At   time.Time `json:"at"`
	Conv string    `json:"conversation"`
	engine.AlertEffect
	Meter string `json:"meter,omitempty"`
}

// RaiseAlert records an operator alert (the newest 1000 are kept). An alert
// with an id already raised is not recorded again.
func (r *Registry) RaiseAlert(ctx context.Context, id string, a Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	fresh, err := r.rdb.SetNX(ctx, "ppp:alert:seen:"+id, 1, 7*24*time.Hour).Result()
	if err != nil || !fresh {
		return err
	}
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, keyAlerts, b)
		p.LTrim(ctx, keyAlerts, 0, 999)
		return nil
	})
	return err
}

// Alerts returns the newest operator alerts first.
func (r *Registry) Alerts(ctx context.Context, n int64) ([]Alert, error) {
	raws, err := r.rdb.LRange(ctx, keyAlerts, 0, n-1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Alert, 0, len(raws))
	for _, raw := range raws {
		var a Alert
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
