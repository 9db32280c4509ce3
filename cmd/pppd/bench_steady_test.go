package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/redistest"
)

// The reply path at a steady 1,000 replies/s. Carriers do not wait for one
// webhook to be answered before posting the next, so these benchmarks send
// on a fixed schedule (open loop): request i starts at start + i ms on a
// goroutine of its own, however slow the answers are, and its latency is
// counted from that scheduled start. A server that falls behind shows it as
// growing latency instead of as a lower request rate the generator quietly
// adapts to. The generator's own lateness in starting a request (the
// sleep's granularity, about a tenth of a millisecond) counts as latency
// too.
//
// Each run is a fixed 3,000 requests (3 s), whatever b.N: run them with
// -benchtime 1x (or any Nx). They report the achieved rate (replies over the
// time from the first scheduled start to the last answer), p50_ms, p99_ms and
// max_ms, and the CPU and Redis figures per reply as the concurrent reply
// benchmarks do.

const (
	steadyRate     = 1000 // requests started per second
	steadyRequests = 3 * steadyRate
	// steadyDrivers answer in BenchmarkReplySteadyOurs: a driver's replies
	// are 256 ms apart, so two of one driver are in flight together only
	// when one takes longer than that (it then retries its commit on a
	// version conflict, as the server does for any driver).
	steadyDrivers = 256
)

// driveSteady starts reqs at rate per second and waits for every answer,
// each of which must be a 200 empty TwiML response.
func driveSteady(b *testing.B, hc *http.Client, u string, reqs []webhookRequest, rate int) load {
	b.Helper()
	lat := make([]time.Duration, len(reqs))
	done := make([]time.Time, len(reqs))
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
	interval := time.Second / time.Duration(rate)
	start := time.Now().Add(10 * time.Millisecond)
	for j := range reqs {
		at := start.Add(time.Duration(j) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(reqs[j].body))
			if err != nil {
				fail(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", reqs[j].sig)
			res, err := hc.Do(req)
			if err != nil {
				fail(err)
				return
			}
			raw, err := io.ReadAll(res.Body)
			res.Body.Close()
			done[j] = time.Now()
			lat[j] = done[j].Sub(at)
			if err != nil {
				fail(err)
				return
			}
			if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), "<Response") || strings.Contains(string(raw), "<Message") {
				fail(fmt.Errorf("request %d: %d %q, want 200 and an empty TwiML response", j, res.StatusCode, raw))
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return load{elapsed: slices.MaxFunc(done, time.Time.Compare).Sub(start), lat: lat}
}

// reportSteady adds the achieved rate and the latency from the scheduled
// start: p50, p99 and max in ms.
func (l load) reportSteady(b *testing.B) {
	b.Helper()
	lat := slices.Clone(l.lat)
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(float64(len(lat))/l.elapsed.Seconds(), "replies/s")
	b.ReportMetric(ms(lat[len(lat)*50/100]), "p50_ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99_ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max_ms")
}

// steadyRun sends reqs at the steady rate and reports what it cost.
func steadyRun(b *testing.B, hc *http.Client, u string, reqs []webhookRequest, rdb *redis.Client) {
	b.Helper()
	measured(b, rdb, len(reqs), func() { driveSteady(b, hc, u, reqs, steadyRate).reportSteady(b) })
}

func BenchmarkReplySteadyFloor(b *testing.B) {
	rdb := redistest.Client(b, redistest.DBReplyBench) // flushes the database
	srvRedis := redis.NewClient(redistest.Options(redistest.DBReplyBench))
	b.Cleanup(func() { _ = srvRedis.Close() })
	const authToken, accountSID = "floor-auth-token", "ACfloor"
	u := floorServer(b, authToken, srvRedis)
	hc := replyClient(b)
	reqs := make([]webhookRequest, steadyRequests)
	for j := range reqs {
		reqs[j] = signedInbound(authToken, accountSID, u, fmt.Sprintf("+8529100%04d", j%steadyDrivers), "+85260000000", replyBody)
	}
	steadyRun(b, hc, u, reqs, rdb)
}

func BenchmarkReplySteadyOurs(b *testing.B) {
	a := startBenchApp(b, redistest.DBReplyBench)
	hc := replyClient(b)
	phones, u, sign := a.answeringDrivers(b, hc, steadyDrivers, 16)
	reqs := make([]webhookRequest, steadyRequests)
	for j := range reqs {
		reqs[j] = sign(phones[j%len(phones)])
	}
	v0 := a.versions(phones)
	steadyRun(b, hc, u, reqs, a.rdb)
	if got := a.versions(phones) - v0; got != int64(len(reqs)) {
		b.Fatalf("%d replies committed %d steps, want one each", len(reqs), got)
	}
}
