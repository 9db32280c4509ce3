package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"ppprenew/devicelink"
	"ppprenew/push"
	"ppprenew/sms"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// Options are knobs for tests; the zero value is production behaviour.
type Options struct {
	// Settings replaces the settings file.
	Settings *engine.Settings
	// RetryDelay replaces asynq's retry back-off.
	RetryDelay func(n int) time.Duration
	// Listener, when set, is the server's listener instead of one opened on
	// PPP_HTTP_ADDR (a test that starts the simulated world first knows the
	// server's address before the server exists).
	Listener net.Listener
	// WorldWait is how long a server in sim mode waits at start for the
	// simulated world to answer (default 30 s).
	WorldWait time.Duration
	// TaskConfig replaces the default task settings.
	TaskConfig *workflows.TaskConfig
	// HoldPause replaces the pause between checks while a caller holds.
	HoldPause time.Duration
	// DeviceLink adjusts the device link's config (timers).
	DeviceLink func(*devicelink.Config)
	// Clock is the service's one idea of "now" (time.Now when nil): quiet
	// hours, message and history times, quotes and the due times of timers
	// all read it.
	Clock func() time.Time
}

// App is the assembled service: HTTP server and asynq worker. In sim mode
// it talks to the simulated world (`pppsim world`) at PPP_SIM_ADDR as it
// would to Twilio, the payment gateway and the push services.
type App struct {
	cfg  Config
	opts Options
	log  *slog.Logger

	mini     *miniredis.Miniredis
	rdb      redis.UniversalClient
	redisOpt asynq.RedisConnOpt
	asynqCli *asynq.Client
	mux      *asynq.ServeMux
	workerMu sync.Mutex
	worker   *asynq.Server
	metrics  *prometheus.Registry
	settings *engine.Settings
	runner   *workflows.Runner
	// dispatcher hands the outbox's effects to asynq.
	dispatcher *workflows.Dispatcher
	devices    *devicelink.Service
	server     *http.Server
	serverLn   net.Listener
	appAPI     *push.AppAPI
	worldAPNs  *worldAPNs

	stop chan struct{}
	wg   sync.WaitGroup
}

// ServerURL is where the server listens.
func (a *App) ServerURL() string { return "http://" + a.serverLn.Addr().String() }

// SimURL is where the simulated world listens ("" with the real carrier).
func (a *App) SimURL() string {
	if a.cfg.Carrier != "sim" {
		return ""
	}
	return "http://" + a.cfg.SimAddr
}

// NewApp builds the service and opens its listeners; Start serves.
func NewApp(cfg Config, opts Options, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, opts: opts, log: log, stop: make(chan struct{}), metrics: prometheus.NewRegistry()}
	ok := false
	defer func() {
		if !ok {
			a.Close(context.Background())
		}
	}()
	a.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := a.openRedis(); err != nil {
		return nil, err
	}
	var err error
	if a.serverLn = opts.Listener; a.serverLn == nil {
		if a.serverLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("listen on PPP_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
	}
	if a.cfg.PublicURL == "" {
		a.cfg.PublicURL = a.ServerURL()
	}
	a.settings = opts.Settings
	if a.settings == nil {
		if a.settings, err = engine.LoadSettings(cfg.SettingsFile); err != nil {
			return nil, err
		}
	}
	if err := sms.CheckTemplates(a.settings, sms.DefaultConfig().MaxSegments); err != nil {
		return nil, err
	}
	if cfg.Carrier == "sim" {
		if a.worldAPNs, err = a.waitForWorld(); err != nil {
			return nil, err
		}
	}
	if err := a.assemble(); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

func (a *App) openRedis() error {
	if a.cfg.RedisURL == "" {
		m, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		a.mini = m
		a.rdb = redis.NewClient(&redis.Options{Addr: m.Addr()})
		a.redisOpt = asynq.RedisClientOpt{Addr: m.Addr()}
		return nil
	}
	o, err := redis.ParseURL(a.cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	a.rdb = redis.NewClient(o)
	a.redisOpt = asynq.RedisClientOpt{Addr: o.Addr, Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at REDIS_URL does not answer: %w", err)
	}
	return nil
}

// assemble wires every component, part by part; each part uses what the
// parts before it built.
func (a *App) assemble() error {
	p := &parts{}
	for _, build := range []func(*parts) error{
		a.buildTasks,         // the asynq client and task queue
		a.buildConversations, // the runner and the outbox's dispatcher
		a.buildCarrier,       // Twilio or the simulated world
		a.buildVoice,         // the caller and the voice webhooks
		a.buildSMS,           // the SMS sender and the messaging webhooks
		a.buildDeviceLink,    // meters, commands, wake-and-verify
		a.buildPush,          // the push sender and the app API
		a.buildWorker,        // the task handlers
		a.buildHTTP,          // every route
	} {
		if err := build(p); err != nil {
			return err
		}
	}
	return nil
}

// consumerName names this replica among the outbox's dispatchers: the same
// host and address after a restart take up their own entries in flight at
// once.
func (a *App) consumerName() string {
	host, _ := os.Hostname()
	return host + "/" + a.serverLn.Addr().String()
}

// store keeps conversations for as long as the settings' retention says.
func (a *App) store() *workflows.Store {
	st := workflows.NewStore(a.rdb)
	st.Retention, st.HistoryCap = a.settings.Retention.Finished, a.settings.Retention.History
	return st
}

// now is the service's clock.
func (a *App) now() time.Time {
	if a.opts.Clock != nil {
		return a.opts.Clock()
	}
	return time.Now()
}

// Start serves HTTP, runs the outbox's dispatcher, the sweeps and the worker.
func (a *App) Start() error {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.server.Serve(a.serverLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("server stopped", "err", err)
		}
	}()
	if a.mini != nil {
		a.every(500*time.Millisecond, func() { a.mini.FastForward(500 * time.Millisecond) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.dispatcher.Run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		<-a.stop
		cancel()
	}()
	if err := a.devices.StartSweeps(context.Background()); err != nil {
		a.log.Warn("device link sweeps did not start", "err", err)
	}
	a.every(5*time.Minute, func() {
		if n, err := a.runner.Store.ForgetExpired(context.Background(), a.now()); err != nil {
			a.log.Warn("forgetting expired conversations failed", "err", err)
		} else if n > 0 {
			a.log.Debug("expired conversations forgotten", "conversations", n)
		}
	})
	return a.StartWorker()
}

func (a *App) every(d time.Duration, f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-t.C:
				f()
			}
		}
	}()
}

// StartWorker starts the asynq worker (again, after StopWorker).
func (a *App) StartWorker() error {
	a.workerMu.Lock()
	defer a.workerMu.Unlock()
	if a.worker != nil {
		return nil
	}
	retry := a.opts.RetryDelay
	if retry == nil {
		retry = func(n int) time.Duration { return min(time.Duration(1<<min(n, 6))*time.Second, time.Minute) }
	}
	queue := workflows.DefaultTaskConfig().Queue
	if a.opts.TaskConfig != nil {
		queue = a.opts.TaskConfig.Queue
	}
	a.worker = asynq.NewServer(a.redisOpt, asynq.Config{
		Concurrency: a.cfg.Workers, Queues: map[string]int{queue: 1},
		DelayedTaskCheckInterval: time.Second, ShutdownTimeout: 8 * time.Second,
		RetryDelayFunc: func(n int, _ error, _ *asynq.Task) time.Duration { return retry(n) },
		Logger:         asynqLogger{a.log.With("component", "asynq")}, LogLevel: asynq.WarnLevel,
	})
	return a.worker.Start(a.mux)
}

// StopWorker stops the asynq worker, letting running tasks finish.
func (a *App) StopWorker() {
	a.workerMu.Lock()
	defer a.workerMu.Unlock()
	if a.worker != nil {
		a.worker.Shutdown()
		a.worker = nil
	}
}

// Close stops everything this app started.
func (a *App) Close(ctx context.Context) {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	if a.server != nil {
		_ = a.server.Shutdown(ctx)
	}
	if a.serverLn != nil {
		_ = a.serverLn.Close()
	}
	a.StopWorker()
	if a.asynqCli != nil {
		_ = a.asynqCli.Close()
	}
	a.wg.Wait()
	if a.rdb != nil {
		_ = a.rdb.Close()
	}
	if a.mini != nil {
		a.mini.Close()
	}
}

func (a *App) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return c.String(http.StatusServiceUnavailable, "redis unreachable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

func (a *App) index(c echo.Context) error {
	return c.String(http.StatusOK, a.banner())
}

// banner says where to look; printed at start and served on /.
func (a *App) banner() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PPP Renew is running.\n\n")
	fmt.Fprintf(&b, "  server      %s  (health /healthz, ready /readyz, metrics /metrics, admin API /admin/v1)\n", a.cfg.PublicURL)
	if a.SimURL() != "" {
		fmt.Fprintf(&b, "  world       %s  (simulated carrier, phones, meters, payment gateway, push: /sim/v1)\n", a.SimURL())
	}
	if a.mini != nil {
		fmt.Fprintf(&b, "  state       IN MEMORY ONLY (embedded Redis): everything is lost on exit; set REDIS_URL to keep it\n")
	} else {
		fmt.Fprintf(&b, "  state       Redis at %s\n", redactURL(a.cfg.RedisURL))
	}
	if a.cfg.Carrier == "sim" {
		fmt.Fprintf(&b, "  carrier     SIMULATED (no messages leave this machine)\n")
		if a.cfg.DevCredentials {
			fmt.Fprintf(&b, "  dev secrets TWILIO_ACCOUNT_SID=%s TWILIO_AUTH_TOKEN=%s PPP_ADMIN_TOKEN=%s\n", a.cfg.AccountSID, a.cfg.AuthToken, a.cfg.AdminToken)
		}
		fmt.Fprintf(&b, "\nTry it:\n  go run ./cmd/pppsim demo\n  (or step by step: go run ./cmd/pppsim help)\n")
	} else {
		fmt.Fprintf(&b, "  carrier     Twilio, account %s\n", maskSID(a.cfg.AccountSID))
	}
	return b.String()
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}

func maskSID(s string) string {
	if len(s) < 8 {
		return "***"
	}
	return s[:4] + "…" + s[len(s)-4:]
}

// asynqLogger sends asynq's logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.l.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.l.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.l.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.l.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.l.Error(fmt.Sprint(args...)) }

// pushProviders returns the push services: the simulated FCM and APNs in
// sim mode, else those configured in the environment (none: push is off).
func (a *App) pushProviders() map[push.Platform]push.Provider {
	out := map[push.Platform]push.Provider{}
	fcmCfg, apnsCfg := push.DefaultFCMConfig(), push.DefaultAPNsConfig()
	if a.cfg.Carrier == "sim" {
		fcmCfg.ProjectID, fcmCfg.Endpoint, fcmCfg.AccessToken = push.SimFCMProject, a.SimURL()+"/fcm/v1", push.SimFCMAccessToken
		if w := a.worldAPNs; w != nil {
			apnsCfg.Host, apnsCfg.RootCAs, apnsCfg.Topic = w.URL, w.pool, w.Topic
		}
	} else {
		fcmCfg.ProjectID, fcmCfg.CredentialsFile = a.cfg.FCMProject, a.cfg.FCMCredentials
		apnsCfg.Host, apnsCfg.Topic = a.cfg.APNsHost, a.cfg.APNsTopic
		apnsCfg.KeyFile, apnsCfg.KeyID, apnsCfg.TeamID = a.cfg.APNsKeyFile, a.cfg.APNsKeyID, a.cfg.APNsTeamID
	}
	if fcmCfg.ProjectID != "" {
		if fcm, err := push.NewFCM(context.Background(), fcmCfg); err != nil {
			a.log.Error("FCM is not available; Android pushes are off", "err", err)
		} else {
			out[push.PlatformFCM] = fcm
		}
	}
	if apnsCfg.RootCAs != nil || apnsCfg.KeyFile != "" {
		if apns, err := push.NewAPNs(apnsCfg); err != nil {
			a.log.Error("APNs is not available; iOS pushes are off", "err", err)
		} else {
			out[push.PlatformAPNs] = apns
		}
	}
	return out
}
