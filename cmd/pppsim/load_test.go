package main

import (
	"bytes"
	"strings"
	"testing"

	"ppprenew/sim/load"
)

func TestLoadCommandLinesAreCheckedBeforeAnyRequest(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"load", "--rate", "2"}, []string{"--drivers is required"}},
		{[]string{"load", "--drivers", "10"}, []string{"--rate is required"}},
		{[]string{"load", "--drivers", "10", "--rate", "0"}, []string{"rate must be a positive number", "pppsim load --help"}},
		{[]string{"load", "--drivers", "10", "--rate", "-3"}, []string{"rate must be a positive number"}},
		{[]string{"load", "--drivers", "0", "--rate", "1"}, []string{"drivers must be at least 1"}},
		{[]string{"load", "--drivers", "10001", "--rate", "1"}, []string{"10001 drivers do not fit one run's namespace: at most 10000"}},
		{[]string{"load", "--drivers", "10", "--rate", "1", "--mix", "sms=70,voice=20"}, []string{"--mix", "sums to 90, not 100"}},
		{[]string{"load", "--drivers", "10", "--rate", "1", "--mix", "sms=70,pigeon=30"}, []string{"--mix", `unknown channel "pigeon"`}},
		{[]string{"load", "--drivers", "10", "--rate", "1", "--duration", "-1s"}, []string{"duration must not be negative"}},
		{[]string{"load", "--drivers", "10", "--rate", "fast"}, []string{"--rate"}},
		{[]string{"load", "--drivers", "10", "--rate", "1", "extra"}, []string{`unexpected argument "extra"`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			msg := usageErr(t, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
}

// An unreachable server is the server's failure (exit 1), named by its
// address.
func TestLoadNamesAnUnreachableServer(t *testing.T) {
	_, err := runAt(t, "http://127.0.0.1:1", "load", "--drivers", "2", "--rate", "1")
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "the server at http://127.0.0.1:1 is unreachable") {
		t.Fatalf("err = %v (exit %d)", err, exitCode(err))
	}
}

func TestLoadTable(t *testing.T) {
	var out bytes.Buffer
	c := &cli{out: &out}
	r := &load.Result{Run: "load-123", Drivers: 4, Rate: 2, Mix: load.Mix{SMS: 50, App: 50}, ElapsedS: 3.5, Throughput: 0.86,
		Journeys:        load.Counts{Started: 4, Completed: 3, TimedOut: 1},
		ByChannel:       map[string]*load.Counts{load.SMS: {Started: 2, Completed: 2}, load.Voice: {}, load.App: {Started: 2, Completed: 1, TimedOut: 1}},
		PaymentToNotice: load.Latency{Count: 4, P50: 120, P90: 300, P99: 310.5, Max: 310.5}, AnswerToConfirmation: load.Latency{Count: 3, P50: 900, P90: 1000, P99: 1000, Max: 1000},
		ExactlyOnce: load.ExactlyOnce{Drivers: 4, ChargesSucceeded: 3, ChargeRequests: 3, RenewalsExecuted: 3, Confirmations: 3, Violations: 1,
			Offenders: []load.DriverCounts{{Driver: 3, Channel: load.App, Phone: "+852****0003", Meter: "LOAD-123-0003", Outcome: load.TimedOut, Reason: "waiting for the confirmation push"}}},
		Warnings: []string{"the world plays against elsewhere"}}
	printLoad(c, r)
	got := out.String()
	for _, want := range []string{
		"Run load-123: 4 drivers, 2 payments/s, mix sms=50,voice=0,app=50, 3.5 s",
		"  sms                           2          2       0          0\n",
		"  app                           2          1       0          1\n",
		"  all                           4          3       0          1\n",
		"throughput: 0.86 confirmed renewals/s",
		"  payment -> notice             4    120.0    300.0    310.5    310.5\n",
		"  charges succeeded (gateway records)             3\n",
		"drivers with a count other than 1: 1",
		"3       app      +852****0003  LOAD-123-0003  timed_out",
		"waiting for the confirmation push",
		"the world plays against elsewhere",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table does not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "  voice ") {
		t.Errorf("a channel without journeys has a row:\n%s", got)
	}
}
