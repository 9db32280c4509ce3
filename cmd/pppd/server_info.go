package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"ppprenew/workflows"
)

// serverInfo answers GET /admin/v1/server: how this server runs (carrier
// mode, platform number, where the simulated world is) and its effective
// settings, under the settings file's own field names (durations as Go
// duration strings such as "10m0s"). Testers' tools read it to refuse a
// scenario the running server cannot carry.
func (a *App) serverInfo(c echo.Context) error {
	// The settings carry yaml tags only; a YAML round trip gives the
	// operator's field names without a second set of tags to keep in step.
	raw, err := yaml.Marshal(a.settings)
	if err != nil {
		return c.JSON(http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "settings could not be encoded"}})
	}
	var settings map[string]any
	if err := yaml.Unmarshal(raw, &settings); err != nil {
		return c.JSON(http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "settings could not be encoded"}})
	}
	out := map[string]any{
		"carrier":  a.cfg.Carrier,
		"sms_from": a.cfg.SMSFrom,
		"sms_rate": a.cfg.SMSRate,
		"settings": settings,
	}
	if a.cfg.Carrier == "sim" {
		out["sim_url"] = "http://" + a.cfg.SimAddr
	}
	return c.JSON(http.StatusOK, out)
}

// resetSim answers POST /admin/v1/reset: only on a server in sim mode, it
// forgets every conversation, driver, blacklist entry, alert and meter
// (every ppp: key) and drops the queued tasks, so a tester starts from an
// empty service without restarting it. With the real carrier it is refused.
func (a *App) resetSim(c echo.Context) error {
	if a.cfg.Carrier != "sim" {
		return c.JSON(http.StatusForbidden, map[string]any{"error": map[string]string{"code": "not_sim",
			"message": "reset is refused: this server runs the real carrier (PPP_CARRIER=" + a.cfg.Carrier + ")"}})
	}
	ctx := c.Request().Context()
	keys, err := deleteByPrefix(ctx, a.rdb, "ppp:*")
	if err != nil {
		a.log.Error("reset failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "redis_unavailable", "message": "reset did not finish: " + err.Error()}})
	}
	tasks := 0
	insp := asynq.NewInspector(a.redisOpt)
	defer insp.Close()
	queue := workflows.DefaultTaskConfig().Queue
	if a.opts.TaskConfig != nil {
		queue = a.opts.TaskConfig.Queue
	}
	for _, del := range []func(string) (int, error){insp.DeleteAllScheduledTasks, insp.DeleteAllPendingTasks, insp.DeleteAllRetryTasks, insp.DeleteAllArchivedTasks, insp.DeleteAllCompletedTasks} {
		n, err := del(queue)
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			a.log.Warn("reset: queued tasks not all dropped", "err", err)
		}
		tasks += n
	}
	a.log.Info("the server's state was reset", "keys", keys, "tasks", tasks)
	return c.JSON(http.StatusOK, map[string]any{"deleted_keys": keys, "deleted_tasks": tasks})
}

// deleteByPrefix unlinks every key matching pattern, a batch at a time.
func deleteByPrefix(ctx context.Context, rdb redis.UniversalClient, pattern string) (int, error) {
	n := 0
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, 500).Result()
		if err != nil {
			return n, err
		}
		if len(keys) > 0 {
			if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
				return n, err
			}
			n += len(keys)
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}
