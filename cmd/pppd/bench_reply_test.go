package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go/client"
	"github.com/twilio/twilio-go/twiml"

	"ppprenew/sim"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// The reply path against a floor. Both benchmarks answer the same signed
// inbound-SMS webhooks over real HTTP on loopback, at each concurrency:
//
//   - BenchmarkReplyFloor is the least any such server does: Echo, twilio-go's
//     request validator on X-Twilio-Signature, one Redis GET and an empty
//     <Response/>.
//   - BenchmarkReplyOurs is pppd itself, as the end-to-end harness starts it,
//     with open conversations answering "2" (see replyBody).
//
// Each reports replies/s, p50_ms and p99_ms of the webhook's round trip, and
// redis_cmds/reply and lua_scripts/reply from INFO commandstats deltas on the
// test Redis (the commands run inside scripts count too). The floor's
// redis_cmds/reply is 1 by construction, which checks the method. They also
// report, per reply, the CPU of this process (server and clients together)
// and of the Redis server, and Redis's socket reads, its round trips (see
// resources in bench_resources_test.go).

// replyConcurrency are the numbers of clients, each with requests of its own
// in flight one at a time.
var replyConcurrency = []int{4, 16, 64}

// replyDrivers is how many drivers answer in BenchmarkReplyOurs: each
// concurrency divides it, so a driver always belongs to one client and never
// has two replies in flight (their version conflicts would measure
// contention on one conversation, not the path). With -benchtime 5000x each
// conversation's history stays under the settings' cap of 200 entries, as a
// real one does; past it every commit also trims the history (LINDEX, LTRIM,
// LPUSH, HINCRBY in the same script: 4 more commands a reply).
const replyDrivers = 128

// replyBody is the driver's answer. "2" asks for a reminder before the grace
// period ends: in phase offered it arms the grace-alert timer and moves to
// alert_set, and in alert_set it is the same menu answer again, arming a new
// timer. So every reply, however many, goes the whole way: MessageSid
// de-duplication, the driver and opt-out look-ups, the conversation's load,
// the step, the versioned commit with history (Lua), and the enqueue of two
// tasks (the alert_scheduled text and the timer). It never ends the
// conversation and never charges, unlike "1" ("1" twice confirms a quote),
// and unlike HELP it is not answered outside the conversation.
const replyBody = "2"

// webhookRequest is one signed inbound SMS, ready to send.
type webhookRequest struct {
	body, sig string
}

var replySeq atomic.Int64

// signedInbound builds the webhook Twilio posts for a text from a phone to
// the platform, with a MessageSid of its own, signed for fullURL.
func signedInbound(authToken, accountSID, fullURL, from, to, body string) webhookRequest {
	sid := fmt.Sprintf("SM%032x", replySeq.Add(1))
	f := url.Values{
		"ToCountry": {"HK"}, "ToState": {""}, "SmsMessageSid": {sid}, "NumMedia": {"0"}, "ToCity": {""},
		"FromZip": {""}, "SmsSid": {sid}, "FromState": {""}, "SmsStatus": {"received"}, "FromCity": {""},
		"Body": {body}, "FromCountry": {"HK"}, "To": {to}, "ToZip": {""}, "NumSegments": {"1"},
		"MessageSid": {sid}, "AccountSid": {accountSID}, "From": {from}, "ApiVersion": {"2010-04-01"},
	}
	return webhookRequest{body: f.Encode(), sig: sim.Sign(authToken, fullURL, f)}
}

// replyTransport keeps a connection per client open, as Twilio's webhook
// senders do, so the benchmark measures requests, not TCP handshakes.
func replyClient(tb testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// load is what one run of requests measured.
type load struct {
	elapsed time.Duration
	lat     []time.Duration
}

// drive sends reqs to u from c clients: client k sends requests k, k+c,
// k+2c, ... one after the other. Every answer must be a 200 empty TwiML
// response; anything else fails the benchmark.
func drive(b *testing.B, hc *http.Client, u string, reqs []webhookRequest, c int) load {
	b.Helper()
	lat := make([]time.Duration, len(reqs))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	start := time.Now()
	for k := range c {
		wg.Go(func() {
			for j := k; j < len(reqs); j += c {
				req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(reqs[j].body))
				if err != nil {
					fail(err)
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", reqs[j].sig)
				t0 := time.Now()
				res, err := hc.Do(req)
				if err != nil {
					fail(err)
					return
				}
				raw, err := io.ReadAll(res.Body)
				res.Body.Close()
				lat[j] = time.Since(t0)
				if err != nil {
					fail(err)
					return
				}
				if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), "<Response") || strings.Contains(string(raw), "<Message") {
					fail(fmt.Errorf("request %d: %d %q, want 200 and an empty TwiML response", j, res.StatusCode, raw))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return load{elapsed: elapsed, lat: lat}
}

// report adds replies/s and the round trip's p50 and p99 in ms.
func (l load) report(b *testing.B) {
	b.Helper()
	lat := slices.Clone(l.lat)
	slices.Sort(lat)
	ms := func(q int) float64 {
		return float64(lat[min(len(lat)-1, len(lat)*q/100)]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(lat))/l.elapsed.Seconds(), "replies/s")
	b.ReportMetric(ms(50), "p50_ms")
	b.ReportMetric(ms(99), "p99_ms")
}

// commandStats is the sum of calls in INFO commandstats, all commands and
// the Lua scripts among them, leaving out INFO itself (the measurement's own).
type commandStats struct{ calls, scripts int64 }

func readCommandStats(b *testing.B, rdb *redis.Client) commandStats {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var s commandStats
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") || name == "cmdstat_info" {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, err := strconv.ParseInt(calls, 10, 64)
		if err != nil {
			b.Fatalf("INFO commandstats: %q: %v", line, err)
		}
		s.calls += n
		switch strings.TrimPrefix(name, "cmdstat_") {
		case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
			s.scripts += n
		}
	}
	return s
}

// reportCommands adds Redis commands and Lua scripts per reply between two
// readings.
func reportCommands(b *testing.B, before, after commandStats, replies int) {
	b.Helper()
	b.ReportMetric(float64(after.calls-before.calls)/float64(replies), "redis_cmds/reply")
	b.ReportMetric(float64(after.scripts-before.scripts)/float64(replies), "lua_scripts/reply")
}

// floorServer is the least a signed-webhook server does: verify the
// signature as twilio-go does, read one key, answer empty TwiML.
func floorServer(b *testing.B, authToken string, rdb *redis.Client) string {
	b.Helper()
	const key = "ppp:bench:floor"
	if err := rdb.Set(context.Background(), key, "1", 0).Err(); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	validator := client.NewRequestValidator(authToken)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.POST("/twilio/sms", func(c echo.Context) error {
		req := c.Request()
		if err := req.ParseForm(); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
		}
		params := make(map[string]string, len(req.PostForm))
		for k, vs := range req.PostForm {
			params[k] = vs[0]
		}
		if !validator.Validate(base+req.URL.RequestURI(), params, req.Header.Get("X-Twilio-Signature")) {
			return echo.NewHTTPError(http.StatusForbidden, "forbidden")
		}
		if err := rdb.Get(req.Context(), key).Err(); err != nil {
			return err
		}
		body, err := twiml.Messages(nil)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(body))
	})
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.Error(err)
		}
	}()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return base + "/twilio/sms"
}

// measured times run, which sends replies and reports its own figures, and
// reports the Redis commands and the CPU (process and Redis) per reply
// over it.
func measured(b *testing.B, rdb *redis.Client, replies int, run func()) {
	b.Helper()
	before := readCommandStats(b, rdb)
	res0 := readResources(b, rdb)
	b.ResetTimer()
	run()
	b.StopTimer()
	res1 := readResources(b, rdb)
	after := readCommandStats(b, rdb)
	reportCommands(b, before, after, replies)
	reportResources(b, res0, res1, replies)
}

func BenchmarkReplyFloor(b *testing.B) {
	rdb := redistest.Client(b, redistest.DBReplyBench) // flushes the database
	// Its own client, as a server process has.
	srvRedis := redis.NewClient(redistest.Options(redistest.DBReplyBench))
	b.Cleanup(func() { _ = srvRedis.Close() })
	const authToken, accountSID = "floor-auth-token", "ACfloor"
	u := floorServer(b, authToken, srvRedis)
	hc := replyClient(b)
	for _, c := range replyConcurrency {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			reqs := make([]webhookRequest, b.N)
			for j := range reqs {
				reqs[j] = signedInbound(authToken, accountSID, u, fmt.Sprintf("+8529100%04d", j%replyDrivers), "+85260000000", replyBody)
			}
			measured(b, rdb, len(reqs), func() { drive(b, hc, u, reqs, c).report(b) })
		})
	}
}

// answeringDrivers parks n drivers with a conversation waiting for their
// answer and answers each once, with concurrency requests in flight, as
// every later answer will: it stops the notice's escalation and leaves the
// conversation waiting in alert_set. It then stops the worker: the effects
// go through the outbox as always, but the texts they would send (and the
// carrier's status callbacks for them) would compete with the measured
// replies for the same CPU and Redis, and outlast each run. It returns the
// drivers' phones, the webhook's URL and a signer of one more answer.
func (a *benchApp) answeringDrivers(b *testing.B, hc *http.Client, n, concurrency int) ([]string, string, func(phone string) webhookRequest) {
	b.Helper()
	phones := a.parkedDrivers(n)
	a.waitPhase(phones, engine.PhaseOffered)
	cfg := a.app.cfg
	u := a.app.ServerURL() + "/twilio/sms"
	sign := func(phone string) webhookRequest {
		return signedInbound(cfg.AuthToken, cfg.AccountSID, u, phone, cfg.SMSFrom, replyBody)
	}
	warm := make([]webhookRequest, len(phones))
	for i, p := range phones {
		warm[i] = sign(p)
	}
	drive(b, hc, u, warm, concurrency)
	a.waitPhase(phones, engine.PhaseAlertSet)
	a.app.StopWorker()
	return phones, u, sign
}

func BenchmarkReplyOurs(b *testing.B) {
	a := startBenchApp(b, redistest.DBReplyBench)
	hc := replyClient(b)
	phones, u, sign := a.answeringDrivers(b, hc, replyDrivers, replyDrivers)
	for _, c := range replyConcurrency {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			reqs := make([]webhookRequest, b.N)
			for j := range reqs {
				reqs[j] = sign(phones[j%len(phones)])
			}
			v0 := a.versions(phones)
			measured(b, a.rdb, len(reqs), func() { drive(b, hc, u, reqs, c).report(b) })
			// Every reply was a step committed on its conversation, none
			// de-duplicated away or lost to a conflict.
			if got := a.versions(phones) - v0; got != int64(len(reqs)) {
				b.Fatalf("%d replies committed %d steps, want one each", len(reqs), got)
			}
		})
	}
}
