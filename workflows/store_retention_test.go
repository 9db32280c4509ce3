package workflows_test

import (
	"fmt"
	"testing"
	"time"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// A conversation's history keeps how it began and the newest entries, up to
// the cap, and counts what it dropped; an ended conversation expires after
// the retention; the index of all conversations forgets those untouched for
// longer than the retention.
func TestStoreKeepsBoundedHistoryAndForgetsOldConversations(t *testing.T) {
	rdb := redistest.Client(t, redistest.DBWorkflows)
	ctx := t.Context()
	store := workflows.NewStore(rdb)
	store.HistoryCap, store.Retention = 5, 48*time.Hour
	t0 := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	st := engine.State{ID: "c-keep", Phone: "+85291230001", MeterID: "M1", Bay: "1", Phase: engine.PhaseParked, Timers: map[engine.TimerKind]engine.Timer{}}
	for v := int64(1); v <= 12; v++ {
		st.Version, st.UpdatedAt = v, t0.Add(time.Duration(v)*time.Minute)
		if v == 12 {
			st.Phase = engine.PhaseEnded
		}
		if err := store.Save(ctx, st, v-1, workflows.HistoryEntry{At: st.UpdatedAt, Version: v, Input: fmt.Sprintf("step %d", v), To: st.Phase}, nil); err != nil {
			t.Fatal(err)
		}
	}
	h, err := store.History(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, e := range h {
		versions = append(versions, e.Version)
	}
	if fmt.Sprint(versions) != "[1 9 10 11 12]" {
		t.Fatalf("history versions %v, want the first and the newest four", versions)
	}
	if n, err := store.HistoryDropped(ctx, st.ID); err != nil || n != 7 {
		t.Fatalf("dropped %d, %v; want 7", n, err)
	}
	for _, key := range []string{"ppp:conv:c-keep", "ppp:conv:c-keep:hist"} {
		ttl, err := rdb.TTL(ctx, key).Result()
		if err != nil || ttl <= 47*time.Hour || ttl > 48*time.Hour {
			t.Fatalf("%s expires in %s (%v), want the 48h retention", key, ttl, err)
		}
	}

	// Past the retention, the index of all conversations forgets the first.
	late := engine.State{ID: "c-late", Phone: "+85291230002", MeterID: "M2", Bay: "1", Phase: engine.PhaseParked,
		Version: 1, UpdatedAt: t0.Add(49 * time.Hour), Timers: map[engine.TimerKind]engine.Timer{}}
	if err := store.Save(ctx, late, 0, workflows.HistoryEntry{At: late.UpdatedAt, Version: 1, To: late.Phase}, nil); err != nil {
		t.Fatal(err)
	}
	if ids, _ := store.Recent(ctx, 10); len(ids) != 2 {
		t.Fatalf("index before the sweep %v, want both", ids)
	}
	if n, err := store.ForgetExpired(ctx, late.UpdatedAt); err != nil || n != 1 {
		t.Fatalf("forgot %d, %v; want 1", n, err)
	}
	ids, err := store.Recent(ctx, 10)
	if err != nil || fmt.Sprint(ids) != "[c-late]" {
		t.Fatalf("index %v, %v; want only c-late", ids, err)
	}
}
