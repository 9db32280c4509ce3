package push_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ppprenew/push"
	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// TestSimulatedAppPressesAButton runs the whole loop: the simulated app
// registers its device through the app API, the sender pushes the notice
// through the fake provider, the app presses "1" and the conversation is
// quoted, once, although the app sent its answer twice.
func TestSimulatedAppPressesAButton(t *testing.T) {
	for _, platform := range []string{sim.ProviderFCM, sim.ProviderAPNs} {
		t.Run(platform, func(t *testing.T) {
			v := newEnv(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conv := v.offered("tok_a", "T1", "7")
			app, err := v.sim.CreateApp(ctx, sim.AppSpec{Phone: phone1, Platform: platform, AppToken: v.token("u-1"), ServerURL: v.server.URL})
			if err != nil {
				t.Fatal(err)
			}
			if got := v.deviceTokens("u-1"); len(got) != 1 || got[0] != app.DeviceToken {
				t.Fatalf("devices %v, want the app's %s", got, app.DeviceToken)
			}
			if _, err := v.sim.ScriptApp(app.ID, sim.AppStep{Press: "1", AfterMS: 5, Duplicate: true}); err != nil {
				t.Fatal(err)
			}
			if err := v.sender.Send(ctx, v.pushRequest(conv, conv+":3:send", phone1)); err != nil {
				t.Fatal(err)
			}
			app, err = v.sim.WaitApp(ctx, app.ID, func(a sim.App) bool { return len(a.Answers) == 2 })
			if err != nil {
				t.Fatalf("app answers %+v: %v", app.Answers, err)
			}
			first, second := app.Answers[0], app.Answers[1]
			if first.Status != 200 || first.Phase != string(engine.PhaseQuoted) || first.Conv != conv || len(first.Messages) == 0 {
				t.Fatalf("first answer %+v", first)
			}
			if second.Status != 200 || !second.Replayed || second.IdempotencyKey != first.IdempotencyKey {
				t.Fatalf("second answer %+v, want the first replayed", second)
			}
			if len(app.Pushes) != 1 || app.Pushes[0].Data["conv"] != conv {
				t.Fatalf("app pushes %+v", app.Pushes)
			}
			if st := v.state(conv); st.Phase != engine.PhaseQuoted || v.replies(conv) != 1 {
				t.Fatalf("conversation %s with %d replies, want quoted once", st.Phase, v.replies(conv))
			}
		})
	}
}

func TestSimulatedAppInvalidatedTokenIsRemoved(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	conv := v.offered("tok_a", "T1", "7")
	app, err := v.sim.CreateApp(ctx, sim.AppSpec{Phone: phone1, Platform: sim.ProviderAPNs, AppToken: v.token("u-1"), ServerURL: v.server.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.sim.Invalidate(app.DeviceToken); err != nil {
		t.Fatal(err)
	}
	err = v.sender.Send(ctx, v.pushRequest(conv, conv+":3:send", phone1))
	var se *workflows.SendError
	if !errors.As(err, &se) || se.Retryable() || se.Message != push.NoDevice {
		t.Fatalf("%v, want no device", err)
	}
	if got := v.deviceTokens("u-1"); len(got) != 0 {
		t.Fatalf("devices %v after the token was reported unregistered", got)
	}
	if app, _ := v.sim.App(app.ID); !app.Invalidated || len(app.Pushes) != 0 {
		t.Fatalf("app %+v", app)
	}
}

func TestSimulatedAppWithBadTokenIsNotCreated(t *testing.T) {
	v := newEnv(t)
	_, err := v.sim.CreateApp(context.Background(), sim.AppSpec{Phone: phone1, AppToken: "ppa_wrong", ServerURL: v.server.URL})
	if !errors.Is(err, sim.ErrAppRegistration) {
		t.Fatalf("%v, want ErrAppRegistration", err)
	}
	if apps := v.sim.Apps(); len(apps) != 0 {
		t.Fatalf("apps %+v", apps)
	}
}
