package devicelink_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
	"ppprenew/workflows/redistest"
)

// benchMeter is a minimal meter for the benchmark: it speaks the envelope
// protocol over HTTP and acks every renewal at once.
type benchMeter struct {
	id    string
	codec *devicelink.MeterCodec
	mu    sync.Mutex // one exchange at a time
}

type benchWorld struct {
	b      *testing.B
	ctx    context.Context
	svc    *devicelink.Service
	url    string
	client *http.Client
	meters []*benchMeter
	byID   map[string]*benchMeter

	mu        sync.Mutex
	enqueued  map[string]time.Time // command id -> enqueue time
	woken     map[string]time.Time // meter id -> wake call time
	delivered []time.Duration
	wakeToAck []time.Duration
	acked     map[string]chan struct{}
	seq       atomic.Int64
}

// exchange sends one message and returns the reply.
func (w *benchWorld) exchange(m *benchMeter, msg devicelink.MeterMessage) (devicelink.Reply, error) {
	env, _, err := m.codec.SealMessage(msg)
	if err != nil {
		return devicelink.Reply{}, err
	}
	resp, err := w.client.Post(w.url+devicelink.ExchangePath, "application/octet-stream", bytes.NewReader(env))
	if err != nil {
		return devicelink.Reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return devicelink.Reply{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return devicelink.Reply{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	r, _, err := m.codec.OpenReply(body)
	return r, err
}

// session runs one exchange and acks whatever it carried.
func (w *benchWorld) session(m *benchMeter, first devicelink.MeterMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rep, err := w.exchange(m, first)
	if err != nil || len(rep.Commands) == 0 {
		return err
	}
	now := time.Now()
	acks := make([]devicelink.AckMessage, 0, len(rep.Commands))
	w.mu.Lock()
	for _, c := range rep.Commands {
		if t, ok := w.enqueued[c.CommandID]; ok {
			w.delivered = append(w.delivered, now.Sub(t))
			delete(w.enqueued, c.CommandID)
		}
		acks = append(acks, devicelink.AckMessage{CommandID: c.CommandID, Status: devicelink.AckApplied, Bay: c.Bay,
			PaidUntil: c.PaidUntil.Format(time.RFC3339)})
	}
	w.mu.Unlock()
	if _, err := w.exchange(m, devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: acks}); err != nil {
		return err
	}
	done := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if t, ok := w.woken[m.id]; ok {
		w.wakeToAck = append(w.wakeToAck, done.Sub(t))
		delete(w.woken, m.id)
	}
	for _, a := range acks {
		if ch, ok := w.acked[a.CommandID]; ok {
			close(ch)
			delete(w.acked, a.CommandID)
		}
	}
	return nil
}

// enqueue stores a renewal for a meter and returns a channel closed when
// the meter acked it.
func (w *benchWorld) enqueue(m *benchMeter) <-chan struct{} {
	id := "b-" + strconv.FormatInt(w.seq.Add(1), 10)
	ch := make(chan struct{})
	w.mu.Lock()
	w.enqueued[id] = time.Now()
	w.acked[id] = ch
	w.mu.Unlock()
	c := devicelink.RenewCommand{CommandID: id, MeterID: m.id, Bay: "1", TxnID: "p" + id, PaidUntil: time.Now().Add(time.Hour)}
	if err := w.svc.EnqueueRenewal(w.ctx, c); err != nil {
		w.b.Fatal(err)
	}
	return ch
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkDelivery runs one device link server against many meters
// (PPP_BENCH_METERS, default 10000, registered in Redis): online meters
// polling every 200 ms, and sleeping meters woken by a waker that makes them
// connect back at once. It reports delivery latency to online meters
// (enqueue to the reply carrying the command), wake-to-ack time (wake call
// to ack stored) and the process heap.
func BenchmarkDelivery(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("PPP_BENCH_METERS")); err == nil && v > 0 {
		n = v
	}
	const online, pollEvery, batch = 100, 200 * time.Millisecond, 50
	rdb := redistest.Client(b, redistest.DBBench)
	w := &benchWorld{b: b, ctx: context.Background(), byID: map[string]*benchMeter{},
		enqueued: map[string]time.Time{}, woken: map[string]time.Time{}, acked: map[string]chan struct{}{}}
	w.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	waker := &devicelinktest.Waker{OnWake: func(_ context.Context, req devicelink.WakeRequest) (devicelink.WakeResult, error) {
		w.mu.Lock()
		w.woken[req.MeterID] = time.Now()
		m := w.byID[req.MeterID]
		w.mu.Unlock()
		go func() { // zero radio delay: the meter connects back at once
			if err := w.session(m, devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: devicelink.ReasonWake}); err != nil {
				b.Error(err)
			}
		}()
		return devicelink.WakeResult{CallSID: "CA" + req.AttemptID, Status: "queued"}, nil
	}}
	cfg := devicelink.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Waker, cfg.WakeBatchWindow = waker, -1
	cfg.SessionIdle = time.Millisecond // a meter is asleep again right after its session
	svc, err := devicelink.NewService(rdb, cfg, bytes.Repeat([]byte{5}, 32), devicelinktest.NewSink(), nil)
	if err != nil {
		b.Fatal(err)
	}
	w.svc = svc
	e := echo.New()
	svc.Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	w.url = srv.URL

	// Register the fleet.
	w.meters = make([]*benchMeter, n)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				id := fmt.Sprintf("BM-%05d", i)
				key, err := svc.CreateMeter(w.ctx, devicelink.Meter{ID: id, SIMNumber: fmt.Sprintf("+8526%07d", i), Bays: []string{"1"}})
				if err != nil {
					b.Error(err)
					return
				}
				codec, _ := devicelink.NewMeterCodec(id, 1, key, 0)
				w.meters[i] = &benchMeter{id: id, codec: codec}
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	for _, m := range w.meters {
		w.byID[m.id] = m
	}

	b.Run("online", func(b *testing.B) {
		ctx, cancel := context.WithCancel(w.ctx)
		var loops sync.WaitGroup
		for k, m := range w.meters[:online] {
			loops.Add(1)
			go func() {
				defer loops.Done()
				// Spread the meters' polls over the interval.
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Duration(k) * pollEvery / online):
				}
				t := time.NewTicker(pollEvery)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						_ = w.session(m, devicelink.MeterMessage{Type: devicelink.MsgPoll})
					}
				}
			}()
		}
		w.delivered = nil
		i := 0
		for b.Loop() {
			chans := make([]<-chan struct{}, 0, batch)
			for range batch {
				chans = append(chans, w.enqueue(w.meters[i%online]))
				i++
			}
			for _, ch := range chans {
				<-ch
			}
		}
		cancel()
		loops.Wait()
		b.ReportMetric(float64(percentile(w.delivered, 0.50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(w.delivered, 0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(w.delivered))/b.Elapsed().Seconds(), "deliveries/s")
		reportHeap(b, n)
	})

	b.Run("wake", func(b *testing.B) {
		w.wakeToAck = nil
		sleeping := w.meters[online:]
		i := 0
		for b.Loop() {
			chans := make([]<-chan struct{}, 0, batch)
			ms := make([]*benchMeter, 0, batch)
			for range batch {
				m := sleeping[i%len(sleeping)]
				i++
				chans = append(chans, w.enqueue(m))
				ms = append(ms, m)
			}
			for _, m := range ms {
				if err := svc.WakeStep(w.ctx, m.id); err != nil {
					b.Fatal(err)
				}
			}
			for _, ch := range chans {
				<-ch
			}
		}
		b.ReportMetric(float64(percentile(w.wakeToAck, 0.50).Microseconds())/1000, "wake-to-ack-p50-ms")
		b.ReportMetric(float64(percentile(w.wakeToAck, 0.99).Microseconds())/1000, "wake-to-ack-p99-ms")
		reportHeap(b, n)
	})

	// The server's cost of one poll exchange, without HTTP.
	b.Run("exchange", func(b *testing.B) {
		var pick atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			m := w.meters[int(pick.Add(1)-1)%len(w.meters)]
			m.mu.Lock()
			defer m.mu.Unlock()
			for pb.Next() {
				env, _, _ := m.codec.SealMessage(devicelink.MeterMessage{Type: devicelink.MsgPoll})
				if _, err := svc.Exchange(w.ctx, env); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportHeap(b, n)
	})
}

// reportHeap reports the process heap in use after a GC (the service keeps
// no per-meter state in memory; the simulated meters live in the same
// process).
func reportHeap(b *testing.B, meters int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(float64(meters), "meters")
}
