package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// worldAPNs is how the simulated world's fake APNs server is reached.
type worldAPNs struct {
	URL   string `json:"url"`
	Topic string `json:"topic"`
	CA    string `json:"ca_pem"`
	pool  *x509.CertPool
}

// waitForWorld waits until the simulated world at PPP_SIM_ADDR answers
// (`pppsim world`, started by `make run` before the server) and learns where
// its fake APNs server is and which certificate to trust. The world is a
// process of its own, so a server restart finds it, and everything testers
// set up in it, as it was.
func (a *App) waitForWorld() (*worldAPNs, error) {
	wait := a.opts.WorldWait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	url := a.SimURL() + "/sim/v1/push/apns"
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	logged := false
	for {
		w, err := fetchWorldAPNs(ctx, hc, url)
		if err == nil {
			return w, nil
		}
		if !logged {
			a.log.Info("waiting for the simulated world", "addr", a.cfg.SimAddr, "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the simulated world at %s (PPP_SIM_ADDR) does not answer after %s; start it with `pppsim world`, or start both with `make run`: %w", a.SimURL(), wait, err)
		case <-tick.C:
		}
	}
}

func fetchWorldAPNs(ctx context.Context, hc *http.Client, url string) (*worldAPNs, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d (is something else listening there?)", url, res.StatusCode)
	}
	var w worldAPNs
	if err := json.NewDecoder(res.Body).Decode(&w); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	w.pool = x509.NewCertPool()
	if !w.pool.AppendCertsFromPEM([]byte(w.CA)) {
		return nil, fmt.Errorf("GET %s: no certificate in the answer", url)
	}
	return &w, nil
}
