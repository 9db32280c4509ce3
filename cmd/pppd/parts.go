package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twilio/twilio-go"

	"ppprenew/devicelink"
	"ppprenew/ivr"
	"ppprenew/push"
	"ppprenew/sms"
	"ppprenew/workflows"
	"ppprenew/workflows/admin"
	"ppprenew/workflows/carrier"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/payment"
	"ppprenew/workflows/twiliohook"
)

// parts are what one part of the service hands to the parts built after
// it; they live only while the app is assembled. What the running app needs
// is kept on App.
type parts struct {
	taskCfg workflows.TaskConfig
	queue   *workflows.TaskQueue
	twilio  *twilio.RestClient
	// senders carry out sends by channel (push only when a push service
	// is configured).
	senders    map[string]workflows.Sender
	smsHooks   *sms.Webhooks
	voiceHooks *ivr.Webhooks
}

// buildTasks opens the task queue: the asynq client and the queue the
// outbox is dispatched to.
func (a *App) buildTasks(p *parts) error {
	p.taskCfg = workflows.DefaultTaskConfig()
	if a.opts.TaskConfig != nil {
		p.taskCfg = *a.opts.TaskConfig
	}
	a.asynqCli = asynq.NewClient(a.redisOpt)
	p.queue = &workflows.TaskQueue{Client: a.asynqCli, Config: p.taskCfg, Now: a.now}
	return nil
}

// buildConversations builds the runner and the outbox's dispatcher.
func (a *App) buildConversations(p *parts) error {
	runner, err := workflows.NewRunner(workflows.RunnerDeps{
		Settings: a.settings, Store: a.store(), Registry: workflows.NewRegistry(a.rdb, a.now), Now: a.now, Log: a.log,
	})
	if err != nil {
		return err
	}
	a.runner = runner
	dispatcher, err := workflows.NewDispatcher(a.rdb, p.queue, a.consumerName(), a.log.With("component", "outbox"))
	if err != nil {
		return err
	}
	dispatcher.Dispatched, dispatcher.Failed = workflows.NewOutboxMetrics()
	a.metrics.MustRegister(dispatcher.Dispatched, dispatcher.Failed)
	a.dispatcher = dispatcher
	return nil
}

// buildCarrier builds the carrier's REST client: Twilio, or the simulated
// world in sim mode.
func (a *App) buildCarrier(p *parts) error {
	cfg := carrier.DefaultConfig()
	cfg.AccountSID, cfg.AuthToken = a.cfg.AccountSID, a.cfg.AuthToken
	if a.cfg.Carrier == "sim" {
		cfg.BaseURL = a.SimURL()
	}
	p.twilio = carrier.NewRestClient(cfg)
	return nil
}

// buildVoice builds the caller and the voice webhooks.
func (a *App) buildVoice(p *parts) error {
	cfg := ivr.DefaultConfig()
	cfg.PublicURL, cfg.From, cfg.DefaultRegion = a.cfg.PublicURL, a.cfg.SMSFrom, a.cfg.Region
	if a.opts.HoldPause > 0 {
		cfg.HoldPause = a.opts.HoldPause
	}
	log := a.log.With("channel", "voice")
	caller, err := ivr.NewCaller(cfg, ivr.CallerDeps{Settings: a.settings, Client: p.twilio, Redis: a.rdb, Now: a.now, Log: log})
	if err != nil {
		return err
	}
	metrics := ivr.NewMetrics()
	a.metrics.MustRegister(metrics.Collectors()...)
	hooks, err := ivr.NewWebhooks(cfg, ivr.WebhookDeps{Conversations: a.runner, Settings: a.settings, Redis: a.rdb, Metrics: metrics, Now: a.now, Log: log})
	if err != nil {
		return err
	}
	p.senders = map[string]workflows.Sender{engine.ChannelVoice: caller}
	p.voiceHooks = hooks
	return nil
}

// buildSMS builds the SMS sender and the messaging webhooks.
func (a *App) buildSMS(p *parts) error {
	cfg := sms.DefaultConfig()
	cfg.From, cfg.PublicURL, cfg.PerSecond = a.cfg.SMSFrom, a.cfg.PublicURL, a.cfg.SMSRate
	log := a.log.With("channel", "sms")
	metrics := sms.NewMetrics()
	a.metrics.MustRegister(metrics.Collectors()...)
	sender, err := sms.NewSender(cfg, sms.SenderDeps{Client: p.twilio, Redis: a.rdb, Registry: a.runner.Registry, Metrics: metrics, Now: a.now, Log: log})
	if err != nil {
		return err
	}
	hooks, err := sms.NewWebhooks(sms.WebhookDeps{Texts: a.runner, Redis: a.rdb, Metrics: metrics, Queue: a.runner.Store.Outbox(),
		DedupeTTL: 48 * time.Hour, Now: a.now, Log: log})
	if err != nil {
		return err
	}
	p.senders[engine.ChannelSMS] = sender
	p.smsHooks = hooks
	return nil
}

// buildDeviceLink builds the device link: meters, their commands and the
// wake-and-verify path through the carrier.
func (a *App) buildDeviceLink(p *parts) error {
	cfg := devicelink.DefaultConfig()
	cfg.Registerer, cfg.Logger = a.metrics, a.log // the device link names itself in its logs
	cfg.Tasks, cfg.TaskQueue = a.asynqCli, p.taskCfg.Queue
	cfg.Waker = devicelink.NewDialUpWaker(p.twilio, a.cfg.WakeCallerID, a.cfg.PublicURL+"/twilio/voice/wake-status", 25*time.Second)
	cfg.Alerts = &securityAlerts{registry: a.runner.Registry}
	if a.opts.DeviceLink != nil {
		a.opts.DeviceLink(&cfg)
	}
	devices, err := devicelink.NewService(a.rdb, cfg, a.cfg.MasterKey, &deviceSink{runner: a.runner}, a.now)
	if err != nil {
		return fmt.Errorf("device link: %w", err)
	}
	a.devices = devices
	return nil
}

// buildPush builds the push sender (when a push service is configured) and
// the app's reply API.
func (a *App) buildPush(p *parts) error {
	cfg := push.DefaultConfig()
	devices := push.NewDevices(a.rdb, cfg.MaxDevices)
	if providers := a.pushProviders(); len(providers) > 0 {
		metrics := push.NewMetrics()
		a.metrics.MustRegister(metrics.Collectors()...)
		sender, err := push.NewSender(cfg, push.SenderDeps{Providers: providers, Devices: devices, Conversations: a.runner,
			Redis: a.rdb, Metrics: metrics, Now: a.now, Log: a.log.With("channel", "push")})
		if err != nil {
			return err
		}
		p.senders[engine.ChannelPush] = sender
	}
	appAPI, err := push.NewAppAPI(cfg, push.AppAPIDeps{Conversations: a.runner, Settings: a.settings, Devices: devices,
		Redis: a.rdb, Now: a.now, Log: a.log.With("channel", "app")})
	if err != nil {
		return err
	}
	a.appAPI = appAPI
	return nil
}

// buildWorker mounts the task handlers and the device link's tasks on the
// worker's mux.
func (a *App) buildWorker(p *parts) error {
	payCfg := payment.DefaultConfig()
	payCfg.BaseURL, payCfg.APIKey = a.cfg.PaymentURL, a.cfg.PaymentKey
	undelivered := workflows.NewUndeliveredMetric()
	a.metrics.MustRegister(undelivered)
	handlers, err := workflows.NewHandlers(workflows.HandlerDeps{Runner: a.runner, Senders: p.senders,
		Gateway: payment.NewHTTPGateway(payCfg, nil), Meters: &meterCommander{devices: a.devices}, Log: a.log, Metrics: undelivered})
	if err != nil {
		return err
	}
	a.mux = asynq.NewServeMux()
	handlers.Register(a.mux)
	a.devices.RegisterTasks(a.mux)
	return nil
}

// buildHTTP mounts every route on the HTTP server: health and metrics, the
// carrier's signed webhooks, the device link, the admin API and the app API.
func (a *App) buildHTTP(p *parts) error {
	adminAPI, err := admin.NewAPI(admin.Config{DefaultRegion: a.cfg.Region}, admin.Deps{Runner: a.runner, Log: a.log})
	if err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.GET("/", a.index)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", a.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{})))
	hookCfg := twiliohook.DefaultConfig()
	hookCfg.PublicURL, hookCfg.AuthToken, hookCfg.Log = a.cfg.PublicURL, a.cfg.AuthToken, a.log
	hookCfg.Rejected = twiliohook.NewRejectedCounter()
	a.metrics.MustRegister(hookCfg.Rejected)
	tw := e.Group("/twilio", twiliohook.Middleware(hookCfg))
	p.smsHooks.Register(tw)
	p.voiceHooks.Register(tw)
	tw.POST("/voice/wake-status", wakeStatus(a.devices, a.log))
	a.devices.Register(e)
	adm := e.Group("/admin/v1", admin.Auth(a.cfg.AdminToken))
	adminAPI.Register(adm)
	a.devices.RegisterAdmin(adm)
	adm.POST("/users/:id/app-token", issueAppToken(a.appAPI, a.runner.Registry))
	adm.GET("/server", a.serverInfo)
	adm.POST("/reset", a.resetSim)
	a.appAPI.Register(e.Group("/app/v1"))
	a.server = &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	return nil
}
