package engine

import "time"

// RetentionSettings bound what Redis keeps of each conversation.
type RetentionSettings struct {
	// Finished is how long an ended conversation, with its history, is
	// kept after it ended; then it is gone (default 2160h, 90 days).
	Finished time.Duration `yaml:"finished"`
	// History is how many history entries a conversation keeps: the first
	// (how it began) and the newest; older ones in between are dropped
	// (default 200).
	History int `yaml:"history"`
}

// DefaultRetention is used for keys left unset.
var DefaultRetention = RetentionSettings{Finished: 90 * 24 * time.Hour, History: 200}

// Bounds of the retention settings.
const (
	minFinishedRetention = time.Hour
	minHistoryEntries    = 20
	maxHistoryEntries    = 10000
)

func (s *Settings) validateRetention(bad func(string, ...any)) {
	r := &s.Retention
	switch {
	case r.Finished == 0:
		r.Finished = DefaultRetention.Finished
	case r.Finished < minFinishedRetention:
		bad("retention.finished: %s is shorter than the shortest accepted, %s", r.Finished, minFinishedRetention)
	}
	switch {
	case r.History == 0:
		r.History = DefaultRetention.History
	case r.History < minHistoryEntries || r.History > maxHistoryEntries:
		bad("retention.history: %d must be between %d and %d entries", r.History, minHistoryEntries, maxHistoryEntries)
	}
}
