package devicelink_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"ppprenew/devicelink"
)

func (h *harness) server() *httptest.Server {
	e := echo.New()
	h.svc.Register(e)
	h.svc.RegisterAdmin(e.Group("/admin/v1"))
	srv := httptest.NewServer(e)
	h.t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, ctype string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestExchangeHTTPStatuses(t *testing.T) {
	h := newHarness(t)
	srv := h.server()
	m := h.meter("M-1", "12")
	url := srv.URL + devicelink.ExchangePath

	good, _, _ := m.codec.SealMessage(poll)
	tampered := bytes.Clone(good)
	tampered[len(tampered)-1] ^= 1
	ghost, _ := devicelink.NewMeterCodec("M-9", 1, m.key, 0)
	unknown, _, _ := ghost.SealMessage(poll)

	tests := []struct {
		name string
		body []byte
		want int
	}{
		{"garbage", []byte("hello"), http.StatusBadRequest},
		{"oversized", make([]byte, devicelink.DefaultConfig().MaxBodyBytes+1), http.StatusBadRequest},
		{"tampered", tampered, http.StatusUnauthorized},
		{"unknown meter", unknown, http.StatusUnauthorized},
		{"good", good, http.StatusOK},
		{"replay", good, http.StatusConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, url, "application/octet-stream", tc.body)
			if status != tc.want {
				t.Fatalf("status = %d, want %d", status, tc.want)
			}
			if status != http.StatusOK && len(body) != 0 {
				t.Errorf("error answer leaks a body: %q", body)
			}
			if status == http.StatusOK {
				if _, _, err := m.codec.OpenReply(body); err != nil {
					t.Errorf("reply does not open: %v", err)
				}
			}
		})
	}
}

func TestAdminAPI(t *testing.T) {
	h := newHarness(t)
	srv := h.server()
	base := srv.URL + "/admin/v1"

	status, body := post(t, base+"/meters", "application/json",
		[]byte(`{"id":"M-7","sim_number":"+85290000007","zone":"Z2","location":"Des Voeux Rd","bays":["1","2"]}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created devicelink.CreateMeterResponse
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	key, err := base64.StdEncoding.DecodeString(created.Key)
	if err != nil || len(key) != 32 || created.Meter.ID != "M-7" || created.Meter.KeyEpoch != 1 {
		t.Fatalf("created = %+v (%v)", created, err)
	}
	// The returned key works on the device link.
	codec, _ := devicelink.NewMeterCodec("M-7", 1, key, 0)
	env, _, _ := codec.SealMessage(devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: devicelink.ReasonBoot})
	if status, _ := post(t, srv.URL+devicelink.ExchangePath, "application/octet-stream", env); status != http.StatusOK {
		t.Fatalf("exchange with the returned key: %d", status)
	}

	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"duplicate", `{"id":"M-7","bays":["1"]}`, http.StatusConflict},
		{"sim number of another meter", `{"id":"M-8","sim_number":"+85290000007","bays":["1"]}`, http.StatusConflict},
		{"invalid", `{"id":"M 8","bays":["1"]}`, http.StatusBadRequest},
		{"key epoch is not accepted", `{"id":"M-8","bays":["1"],"key_epoch":3}`, http.StatusBadRequest},
		{"not json", `{`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := post(t, base+"/meters", "application/json", []byte(tc.body)); status != tc.want {
				t.Errorf("status = %d (%s), want %d", status, body, tc.want)
			}
		})
	}

	if err := h.svc.EnqueueRenewal(h.ctx, h.renewal("c-1", "M-7", "2", h.clock.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get("/meters"); status != 200 || !strings.Contains(body, `"id":"M-7"`) || strings.Contains(body, created.Key) {
		t.Errorf("list: %d %s", status, body)
	}
	status, got := get("/meters/M-7")
	var st devicelink.MeterStatus
	if status != 200 || json.Unmarshal([]byte(got), &st) != nil {
		t.Fatalf("status: %d %s", status, got)
	}
	if st.LastReason != devicelink.ReasonBoot || len(st.PendingCommands) != 1 || st.PendingCommands[0].CommandID != "c-1" || len(st.Bays) != 2 {
		t.Errorf("status = %+v", st)
	}
	if status, body := get("/meters/M-7/commands"); status != 200 || !strings.Contains(body, `"state":"queued"`) {
		t.Errorf("commands: %d %s", status, body)
	}
	if status, _ := get("/meters/M-404"); status != http.StatusNotFound {
		t.Errorf("missing meter: %d", status)
	}
}

func TestMetricsCountRejections(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	cfg := devicelink.DefaultConfig()
	cfg.Registerer = reg
	svc, err := devicelink.NewService(h.rdb, cfg, platformKey, h.sink, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	// A second service on the same registerer shares the collectors.
	if _, err := devicelink.NewService(h.rdb, cfg, platformKey, h.sink, h.clock.Now); err != nil {
		t.Fatal(err)
	}
	_, _ = svc.Exchange(h.ctx, []byte("junk"))
	_, _ = svc.Exchange(h.ctx, []byte("junk"))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "ppp_devicelink_envelopes_rejected_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetLabel()[0].GetValue() == "malformed" && m.GetCounter().GetValue() == 2 {
				return
			}
		}
	}
	t.Errorf("no malformed=2 rejection counter in %v", families)
}
