package sms_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"ppprenew/workflows"
)

// Pacing waits for the next second of the service's clock, whatever the
// machine's clock says: a service whose clock is months away from the
// machine's (as in a test world) still sends its second text of a full
// second once that second has passed, rather than reporting the number
// saturated.
func TestPacingWaitsForTheNextSecondOfTheServicesClock(t *testing.T) {
	v := newValidityEnv(t)
	offset := -200 * 24 * time.Hour
	v.sender.Now = func() time.Time { return time.Now().Add(offset) }
	v.sender.Config.PerSecond = 1
	ctx := context.Background()
	for i := range 2 {
		start := v.sender.Now()
		v.setNow(start)
		e, _ := v.noticeText(t, "P"+strconv.Itoa(i), 10*time.Minute, 40*time.Minute)
		if err := v.sender.Send(ctx, workflows.SendRequest{Conv: "c-p" + strconv.Itoa(i), EffectID: e.ID, Send: *e.Send}); err != nil {
			t.Fatalf("text %d: %v, want it sent within its second", i+1, err)
		}
	}
	if n := len(v.twilio.posts()); n != 2 {
		t.Fatalf("%d texts posted, want 2", n)
	}
}
