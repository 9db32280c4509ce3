package workflows

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"ppprenew/workflows/engine"

	"github.com/redis/go-redis/v9"
)

// Sentinel errors of the store.
var (
	// ErrNotFound means the conversation, user or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the conversation changed since it was read.
	ErrConflict = errors.New("version conflict")
)

//go:embed lua/save.lua
var saveLua string

var saveScript = redis.NewScript(saveLua)

// HistoryEntry is one step of a conversation's audit history.
type HistoryEntry struct {
	At      time.Time    `json:"at"`
	Version int64        `json:"version"`
	Input   string       `json:"input"`
	From    engine.Phase `json:"from,omitempty"`
	To      engine.Phase `json:"to"`
	Effects []string     `json:"effects,omitempty"`
}

// Store keeps conversations in Redis with optimistic concurrency.
type Store struct {
	rdb redis.UniversalClient
	// Retention is how long an ended conversation and its history are kept.
	Retention time.Duration
	// HistoryCap is how many history entries a conversation keeps: the
	// first and the newest (at least 2).
	HistoryCap int
}

// NewStore returns a store on rdb with the default retention.
func NewStore(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb, Retention: engine.DefaultRetention.Finished, HistoryCap: engine.DefaultRetention.History}
}

// Get loads a conversation.
func (s *Store) Get(ctx context.Context, id string) (engine.State, error) {
	return decodeState(id, s.rdb.HGet(ctx, keyConv(id), "s"))
}

func unmarshalState(id, raw string) (engine.State, error) {
	var st engine.State
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return engine.State{}, fmt.Errorf("conversation %s: %w", id, err)
	}
	if st.Timers == nil {
		st.Timers = map[engine.TimerKind]engine.Timer{}
	}
	return st, nil
}

// Save writes st if the stored version is prev (0 to create), appends h to
// the history and puts effects in the outbox, all in one atomic commit. It
// returns ErrConflict when the version differs (for a create: the
// conversation exists).
func (s *Store) Save(ctx context.Context, st engine.State, prev int64, h HistoryEntry, effects []engine.Effect) error {
	stateJSON, err := json.Marshal(st)
	if err != nil {
		return err
	}
	histJSON, err := json.Marshal(h)
	if err != nil {
		return err
	}
	var effJSON []byte
	if len(effects) > 0 {
		if effJSON, err = json.Marshal(effects); err != nil {
			return err
		}
	}
	terminal := "0"
	if st.Phase.Terminal() {
		terminal = "1"
	}
	keys := []string{keyConv(st.ID), keyHist(st.ID), keyPhoneOpen(st.Phone), keyBay(st.MeterID, st.Bay), keyConvs, keyOutbox, keyPhoneWho(st.Phone)}
	ok, err := saveScript.Run(ctx, s.rdb, keys,
		strconv.FormatInt(prev, 10), strconv.FormatInt(st.Version, 10), stateJSON, histJSON, st.ID, terminal,
		st.LastPromptAt.UnixMilli(), st.UpdatedAt.UnixMilli(), effJSON, int64(s.Retention/time.Second), max(s.HistoryCap, 2),
		st.UserID+"\n"+st.CardToken).Int()
	if err != nil {
		return fmt.Errorf("save conversation %s: %w", st.ID, err)
	}
	if ok == 0 {
		return fmt.Errorf("save conversation %s at version %d: %w", st.ID, prev, ErrConflict)
	}
	return nil
}

// ForgetExpired drops from the index of all conversations those untouched
// for longer than the retention before now (their keys have expired or are
// about to); it returns how many. The server runs it every few minutes, off
// the reply path.
func (s *Store) ForgetExpired(ctx context.Context, now time.Time) (int64, error) {
	return s.rdb.ZRemRangeByScore(ctx, keyConvs, "-inf", "("+strconv.FormatInt(now.Add(-s.Retention).UnixMilli(), 10)).Result()
}

// HistoryDropped is how many history entries of a conversation were
// dropped to keep it within HistoryCap (between the first and the rest).
func (s *Store) HistoryDropped(ctx context.Context, id string) (int64, error) {
	n, err := s.rdb.HGet(ctx, keyConv(id), "d").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

// History returns a conversation's audit history, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]HistoryEntry, error) {
	raws, err := s.rdb.LRange(ctx, keyHist(id), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	if len(raws) == 0 {
		if n, _ := s.rdb.Exists(ctx, keyConv(id)).Result(); n == 0 {
			return nil, fmt.Errorf("conversation %s: %w", id, ErrNotFound)
		}
	}
	out := make([]HistoryEntry, 0, len(raws))
	for _, r := range raws {
		var h HistoryEntry
		if err := json.Unmarshal([]byte(r), &h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// AtBay returns the open conversation at a bay, or ErrNotFound.
func (s *Store) AtBay(ctx context.Context, meterID, bay string) (string, error) {
	id, err := s.rdb.Get(ctx, keyBay(meterID, bay)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	return id, err
}

// OpenForPhone returns a phone's open conversations, most recently prompted first.
func (s *Store) OpenForPhone(ctx context.Context, phone string) ([]string, error) {
	return s.rdb.ZRevRange(ctx, keyPhoneOpen(phone), 0, -1).Result()
}

// Recent returns up to n conversation ids, most recently updated first.
func (s *Store) Recent(ctx context.Context, n int64) ([]string, error) {
	return s.rdb.ZRevRange(ctx, keyConvs, 0, n-1).Result()
}

// RecentSince returns the ids of conversations updated since t.
func (s *Store) RecentSince(ctx context.Context, t time.Time) ([]string, error) {
	return s.rdb.ZRangeByScore(ctx, keyConvs, &redis.ZRangeBy{Min: strconv.FormatInt(t.UnixMilli(), 10), Max: "+inf"}).Result()
}
