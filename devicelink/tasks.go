package devicelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task types of the device link. Task ids are deterministic, so a repeated
// enqueue (a retried request, several replicas) is recognised by asynq.
const (
	// TaskWake runs a meter's wake step at its timer. Task id
	// "dl:wake:<meter id>:<due unix ms>"; a task whose timer was moved on
	// does nothing.
	TaskWake = "dl:wake"
	// TaskSweep runs Sweep and enqueues the next sweep. Task id
	// "dl:sweep:<slot start unix s>".
	TaskSweep = "dl:sweep"
)

// wakePayload is the payload of a TaskWake task.
type wakePayload struct {
	Meter string `json:"meter"`
	DueMS int64  `json:"due_ms"`
}

// RegisterTasks mounts the device link's task handlers on mux. The host
// enqueues the first sweep with StartSweeps.
func (s *Service) RegisterTasks(mux *asynq.ServeMux) {
	mux.HandleFunc(TaskWake, s.HandleWake)
	mux.HandleFunc(TaskSweep, s.HandleSweep)
}

// enqueueWake enqueues the wake task of a timer. Failures are logged, not
// returned: the timer is indexed, and the sweep runs due timers whose task
// was lost.
func (s *Service) enqueueWake(ctx context.Context, meterID string, dueMS int64) error {
	if s.cfg.Tasks == nil {
		return nil
	}
	b, _ := json.Marshal(wakePayload{Meter: meterID, DueMS: dueMS})
	id := "dl:wake:" + meterID + ":" + strconv.FormatInt(dueMS, 10)
	_, err := s.cfg.Tasks.EnqueueContext(ctx, asynq.NewTask(TaskWake, b), asynq.TaskID(id), asynq.Queue(s.cfg.TaskQueue),
		asynq.ProcessIn(time.UnixMilli(dueMS).Sub(s.now())), asynq.MaxRetry(5))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		s.log.WarnContext(ctx, "wake task not enqueued, the sweep will run it", "meter", meterID, "err", err)
	}
	return nil
}

// maxEarly is how early a wake task may run and still wait for its timer:
// asynq schedules with one-second resolution.
const maxEarly = 2 * time.Second

// errEarly makes asynq retry a wake task that ran too early.
var errEarly = errors.New("devicelink: wake task ran before its timer")

// HandleWake is the TaskWake handler.
func (s *Service) HandleWake(ctx context.Context, t *asynq.Task) error {
	var p wakePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Meter == "" {
		return fmt.Errorf("%w: bad wake payload", asynq.SkipRetry)
	}
	if early := time.UnixMilli(p.DueMS).Sub(s.now()); early > 0 {
		if early > maxEarly {
			return errEarly
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(early):
		}
	}
	err := s.WakeStep(ctx, p.Meter)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// sweepPayload is the payload of a TaskSweep task.
type sweepPayload struct {
	// Slot is the start of the sweep's slot, unix seconds.
	Slot int64 `json:"slot"`
}

// HandleSweep is the TaskSweep handler: it runs Sweep and enqueues the next
// one.
func (s *Service) HandleSweep(ctx context.Context, t *asynq.Task) error {
	var p sweepPayload
	_ = json.Unmarshal(t.Payload(), &p)
	if _, err := s.Sweep(ctx); err != nil {
		return err
	}
	// The next slot follows this task's own, even if asynq ran it early.
	return s.enqueueSweep(ctx, time.Unix(p.Slot, 0).Add(s.cfg.SweepInterval))
}

// StartSweeps enqueues the sweep of the next Config.SweepInterval slot (a
// no-op if it is already enqueued). Every replica may call it at start-up;
// each sweep enqueues the next.
func (s *Service) StartSweeps(ctx context.Context) error {
	return s.enqueueSweep(ctx, time.Time{})
}

// enqueueSweep enqueues the sweep of the next slot, not before after.
func (s *Service) enqueueSweep(ctx context.Context, after time.Time) error {
	if s.cfg.Tasks == nil {
		return fmt.Errorf("%w: no task client configured", ErrInvalid)
	}
	slot := s.now().Truncate(s.cfg.SweepInterval).Add(s.cfg.SweepInterval)
	if after.After(slot) {
		slot = after
	}
	b, _ := json.Marshal(sweepPayload{Slot: slot.Unix()})
	id := "dl:sweep:" + strconv.FormatInt(slot.Unix(), 10)
	_, err := s.cfg.Tasks.EnqueueContext(ctx, asynq.NewTask(TaskSweep, b), asynq.TaskID(id), asynq.Queue(s.cfg.TaskQueue),
		asynq.ProcessIn(slot.Sub(s.now())), asynq.MaxRetry(1))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("devicelink: enqueue sweep: %w", err)
	}
	return nil
}
