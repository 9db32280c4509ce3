package sms_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStatusCallbackForUnsentMessageIsAcknowledgedAndChangesNothing(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	before, err := v.rdb.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, reason string
	}{
		{name: "no mid", path: "/twilio/sms/status", reason: "no_mid"},
		{name: "unknown mid", path: "/twilio/sms/status?mid=m-never-sent", reason: "unknown_mid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, f := status("", "SM20", "delivered", "")
			code, _ := v.post(t, tt.path, f)
			if code < 200 || code > 299 {
				t.Fatalf("status %d, want 2xx", code)
			}
			if n := testutil.ToFloat64(v.metrics.StatusUnknown.WithLabelValues(tt.reason)); n != 1 {
				t.Fatalf("ppp_sms_status_unknown_total{reason=%q} = %v, want 1", tt.reason, n)
			}
		})
	}
	after, err := v.rdb.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("keys %d -> %d: a callback for an unsent message changed the store", before, after)
	}
	if n := testutil.CollectAndCount(v.metrics.Statuses); n != 0 {
		t.Fatalf("%d status series recorded, want none for unsent messages", n)
	}
	if got := v.queue.Sends(); len(got) != 0 {
		t.Fatalf("sends %v, want none", got)
	}
}
