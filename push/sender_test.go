package push_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ppprenew/push"
	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// register adds a device to a user directly in the store.
func (v *env) register(user string, p push.Platform, token string) {
	v.t.Helper()
	if _, err := v.devices.Register(context.Background(), user, p, token); err != nil {
		v.t.Fatal(err)
	}
}

func (v *env) deviceTokens(user string) []string {
	v.t.Helper()
	list, err := v.devices.List(context.Background(), user)
	if err != nil {
		v.t.Fatal(err)
	}
	var out []string
	for _, d := range list {
		out = append(out, d.Token)
	}
	return out
}

// pushRequest is the engine's push of a conversation's notice.
func (v *env) pushRequest(conv, effect, to string) workflows.SendRequest {
	return workflows.SendRequest{Conv: conv, EffectID: effect, Send: engine.Send{
		Channel: engine.ChannelPush, To: to, Language: "en", Template: "notice",
		Body: "Demo City Parking: bay 7 ends 12:30. Reply 1 to extend.", ValidUntil: v.clock.Now().Add(10 * time.Minute),
	}}
}

// delivered counts the pushes a fake answered 200 for a token.
func (v *env) delivered(token string) int {
	n := 0
	for _, p := range v.sim.Pushes(token) {
		if p.Status == 200 {
			n++
		}
	}
	return n
}

func isNoDevice(err error) bool {
	var se *workflows.SendError
	return errors.As(err, &se) && !se.Temporary && se.Code == 0 && se.Message == push.NoDevice
}

func TestSenderPushesEveryDeviceWithSessionData(t *testing.T) {
	v := newEnv(t)
	conv := v.offered("tok_a", "T1", "7")
	fcm, apns := fcmToken("1"), apnsToken("01")
	v.register("u-1", push.PlatformFCM, fcm)
	v.register("u-1", push.PlatformAPNs, apns)
	if err := v.sender.Send(context.Background(), v.pushRequest(conv, conv+":3:send", phone1)); err != nil {
		t.Fatal(err)
	}
	st := v.state(conv)
	for _, tok := range []string{fcm, apns} {
		got := v.sim.Pushes(tok)
		if len(got) != 1 || got[0].Status != 200 {
			t.Fatalf("pushes to %s: %+v, want one delivered", tok, got)
		}
		p := got[0]
		if p.Title != "Parking renewal" || !strings.Contains(p.Body, "Reply 1") || p.Category != push.CategoryRenewal {
			t.Errorf("push %+v", p)
		}
		if p.Data["conv"] != conv || p.Data["meter"] != "M1" || p.Data["bay"] != "7" ||
			p.Data["paid_until"] != st.PaidUntil.UTC().Format(time.RFC3339) || p.Data["link"] != "ppp://renew?c="+conv {
			t.Errorf("push data %v", p.Data)
		}
	}
}

func TestSenderRemovesInvalidTokens(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	conv := v.offered("tok_a", "T1", "7")
	fcm, apns := fcmToken("1"), apnsToken("01")
	v.register("u-1", push.PlatformFCM, fcm)
	v.register("u-1", push.PlatformAPNs, apns)

	v.sim.Invalidate(fcm)
	if err := v.sender.Send(ctx, v.pushRequest(conv, "e-1", phone1)); err != nil {
		t.Fatalf("one device left: %v, want delivered", err)
	}
	if got := v.deviceTokens("u-1"); len(got) != 1 || got[0] != apns {
		t.Fatalf("devices %v, want only the APNs device", got)
	}
	if v.delivered(apns) != 1 {
		t.Fatal("the valid device did not get the push")
	}

	v.sim.Invalidate(apns)
	err := v.sender.Send(ctx, v.pushRequest(conv, "e-2", phone1))
	if !isNoDevice(err) {
		t.Fatalf("all tokens invalid: %v, want a permanent SendError 0 %q", err, push.NoDevice)
	}
	if got := v.deviceTokens("u-1"); len(got) != 0 {
		t.Fatalf("devices %v, want none", got)
	}
	if err := v.sender.Send(ctx, v.pushRequest(conv, "e-2", phone1)); !isNoDevice(err) {
		t.Fatalf("the same effect again: %v, want the same answer", err)
	}
}

func TestSenderWithoutDevice(t *testing.T) {
	tests := []struct {
		name string
		to   string
	}{
		{"registered user without a device", phone1},
		{"unregistered phone", "+85290000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			if err := v.sender.Send(context.Background(), v.pushRequest("", "e-"+tc.to, tc.to)); !isNoDevice(err) {
				t.Fatalf("%v, want a permanent SendError 0 %q", err, push.NoDevice)
			}
		})
	}
}

func TestSenderIsIdempotentPerEffect(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	conv := v.offered("tok_a", "T1", "7")
	fcm, apns := fcmToken("1"), apnsToken("01")
	v.register("u-1", push.PlatformFCM, fcm)
	v.register("u-1", push.PlatformAPNs, apns)
	req := v.pushRequest(conv, conv+":3:send", phone1)
	for range 3 {
		if err := v.sender.Send(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if v.delivered(fcm) != 1 || v.delivered(apns) != 1 {
		t.Fatalf("delivered fcm %d apns %d, want 1 each for one effect", v.delivered(fcm), v.delivered(apns))
	}
	if err := v.sender.Send(ctx, v.pushRequest(conv, conv+":9:send", phone1)); err != nil {
		t.Fatal(err)
	}
	if v.delivered(fcm) != 2 {
		t.Fatalf("a new effect was not pushed: %d", v.delivered(fcm))
	}
}

func TestSenderRetriesOnlyAfterTemporaryFailure(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	conv := v.offered("tok_a", "T1", "7")
	apns := apnsToken("01")
	v.register("u-1", push.PlatformAPNs, apns)
	if err := v.sim.InjectPushFault(sim.PushFault{Provider: sim.ProviderAPNs, Status: 503}); err != nil {
		t.Fatal(err)
	}
	req := v.pushRequest(conv, "e-1", phone1)
	var se *workflows.SendError
	if err := v.sender.Send(ctx, req); !errors.As(err, &se) || !se.Retryable() {
		t.Fatalf("APNs 503: %v, want a retryable SendError", err)
	}
	if got := v.deviceTokens("u-1"); len(got) != 1 {
		t.Fatalf("a temporary failure removed the device: %v", got)
	}
	if err := v.sender.Send(ctx, req); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if err := v.sender.Send(ctx, req); err != nil {
		t.Fatalf("retry after success: %v", err)
	}
	if n, all := v.delivered(apns), len(v.sim.Pushes(apns)); n != 1 || all != 2 {
		t.Fatalf("delivered %d of %d requests, want 1 of 2", n, all)
	}
}

func TestSenderSkipsExpiredMessages(t *testing.T) {
	v := newEnv(t)
	conv := v.offered("tok_a", "T1", "7")
	fcm := fcmToken("1")
	v.register("u-1", push.PlatformFCM, fcm)
	req := v.pushRequest(conv, "e-1", phone1)
	req.Send.ValidUntil = v.clock.Now()
	var se *workflows.SendError
	if err := v.sender.Send(context.Background(), req); !errors.As(err, &se) || !se.Expired || se.Retryable() {
		t.Fatalf("send of an expired message: %v, want the expired send error", err)
	}
	if n := len(v.sim.Pushes(fcm)); n != 0 {
		t.Fatalf("%d pushes of an expired message", n)
	}
}

func TestSenderDismissIsSilent(t *testing.T) {
	v := newEnv(t)
	conv := v.offered("tok_a", "T1", "7")
	fcm, apns := fcmToken("1"), apnsToken("01")
	v.register("u-1", push.PlatformFCM, fcm)
	v.register("u-1", push.PlatformAPNs, apns)
	req := workflows.SendRequest{Conv: conv, EffectID: conv + ":5:dismiss", Send: engine.Send{
		Channel: engine.ChannelPush, To: phone1, Language: "en", Template: "dismiss", ValidUntil: v.clock.Now().Add(time.Minute)}}
	if err := v.sender.Send(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{fcm, apns} {
		got := v.sim.Pushes(tok)
		if len(got) != 1 || got[0].Status != 200 {
			t.Fatalf("pushes %+v", got)
		}
		if p := got[0]; p.Title != "" || p.Body != "" || p.Category != "" || p.Data["template"] != "dismiss" || p.Data["conv"] != conv {
			t.Errorf("dismiss push %+v, want silent with the conversation", p)
		}
	}
}
