// Package simtest runs the server (pppd) as a process of its own for tests
// that play the simulated world against it from outside: build it, start it
// on the test Redis, wait until it is ready, kill it with SIGKILL or stop it,
// and keep its output for a failing test.
package simtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"ppprenew/workflows/redistest"
)

// MasterKey is the device link master key test servers run with.
const MasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// BuildServer builds pppd into a temporary directory of tb and returns its
// path.
func BuildServer(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "pppd")
	if out, err := exec.Command("go", "build", "-o", bin, "ppprenew/cmd/pppd").CombinedOutput(); err != nil {
		tb.Fatalf("go build pppd: %v\n%s", err, out)
	}
	return bin
}

// FreeAddr is a loopback address whose port is free at the time of asking.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Eventually polls cond until it holds, failing tb after limit. It asserts
// an outcome, never a duration.
func Eventually(tb testing.TB, what string, limit time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		<-tick.C
	}
}

// Answers reports whether GET url answers 200.
func Answers(url string) bool {
	c := &http.Client{Timeout: time.Second}
	res, err := c.Get(url)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// LockedBuffer collects a process's output while the test reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// SimEnv is the environment of a server in sim mode listening on httpAddr,
// playing against the world at simAddr, on database db of the test Redis,
// followed by extra ("KEY=value", later entries win).
func SimEnv(httpAddr, simAddr string, db int, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PPP_HTTP_ADDR=" + httpAddr, "PPP_SIM_ADDR=" + simAddr, "PPP_CARRIER=sim",
		fmt.Sprintf("REDIS_URL=redis://%s/%d", redistest.Addr(), db),
		"PPP_MASTER_KEY=" + MasterKey, "PPP_SMS_RATE=100", "PPP_LOG_LEVEL=warn",
	}, extra...)
}

// Server is pppd running as a process of its own.
type Server struct {
	TB   testing.TB
	Bin  string   // from BuildServer
	Env  []string // from SimEnv
	URL  string   // http:// and its PPP_HTTP_ADDR
	Logs *LockedBuffer

	cmd    *exec.Cmd
	exited chan error
}

// Start runs the server and waits (up to a minute) until /readyz answers;
// the test's end kills it if it still runs, and prints its output if the
// test failed. Start may be called again after Kill.
func (s *Server) Start() {
	s.TB.Helper()
	if s.Logs == nil {
		s.Logs = &LockedBuffer{}
		s.TB.Cleanup(func() {
			if s.TB.Failed() || os.Getenv("PPP_TEST_LOG") != "" {
				s.TB.Logf("server output:\n%s", s.Logs)
			}
		})
	}
	cmd := exec.Command(s.Bin)
	cmd.Env = s.Env
	cmd.Stdout, cmd.Stderr = s.Logs, s.Logs
	if err := cmd.Start(); err != nil {
		s.TB.Fatalf("start pppd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.cmd, s.exited = cmd, exited
	s.TB.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !Answers(s.URL + "/readyz") {
		select {
		case err := <-exited:
			exited <- err
			s.TB.Fatalf("pppd exited before it was ready: %v\n%s", err, s.Logs)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			s.TB.Fatalf("pppd at %s was not ready within a minute", s.URL)
		}
	}
}

// Kill stops the server with SIGKILL: no shutdown, nothing flushed.
func (s *Server) Kill() {
	s.TB.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.TB.Fatal(err)
	}
	err := <-s.exited
	s.exited <- err
}

// Stop asks the server to shut down (SIGTERM) and waits for it.
func (s *Server) Stop() {
	s.TB.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err
	case <-time.After(15 * time.Second):
		s.Kill()
	}
}
