package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/spf13/cobra"

	"ppprenew/sim"
)

// countingServer answers 404 to everything and counts the requests, to show
// a command line was refused before any was sent.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// leaves are the paths of every command that does something ("meter add",
// "tap", ...), read from the tree itself.
func leaves(t *testing.T) [][]string {
	t.Helper()
	var out [][]string
	var walk func(cmd *cobra.Command, path []string)
	walk = func(cmd *cobra.Command, path []string) {
		subs := 0
		for _, sub := range cmd.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" || sub.Hidden {
				continue
			}
			subs++
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
		if len(path) > 0 && (subs == 0 || cmd.Name() == "fault") {
			out = append(out, path)
		}
	}
	walk(newRootCmd(&cli{}), nil)
	if len(out) < 25 {
		t.Fatalf("found %d commands, want every command of pppsim", len(out))
	}
	return out
}

func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	srv, requests := countingServer(t)
	for _, path := range leaves(t) {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			viaHelp, err := runAt(t, srv.URL, append([]string{"help"}, path...)...)
			if err != nil {
				t.Fatalf("help %s: %v", name, err)
			}
			viaFlag, err := runAt(t, srv.URL, append(slices.Clone(path), "--help")...)
			if err != nil {
				t.Fatalf("%s --help: %v", name, err)
			}
			if viaHelp != viaFlag {
				t.Errorf("help %s and %s --help differ:\n%s\n---\n%s", name, name, viaHelp, viaFlag)
			}
			for _, want := range []string{"Usage:\n  pppsim " + name, "Examples:\n  pppsim " + name, "Global Flags:", "--json"} {
				if !strings.Contains(viaHelp, want) {
					t.Errorf("help of %s does not say %q:\n%s", name, want, viaHelp)
				}
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("help sent %d requests", n)
	}
}

func TestRootHelpListsTheCommandsByGroup(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"--help"}} {
		out, err := runAt(t, "http://127.0.0.1:1", args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		// Each group's title, in order, followed by its commands.
		at := 0
		for _, g := range []struct {
			title    string
			commands []string
		}{
			{"The simulated world:", []string{"demo", "fault"}},
			{"Drivers:", []string{"user"}},
			{"Meters and bays:", []string{"meter", "tap"}},
			{"Phones (SMS and voice):", []string{"call", "calls", "phone", "sms"}},
			{"The driver's app (push notifications):", []string{"app"}},
			{"Cards, charges and the payment gateway:", []string{"blacklist", "card", "charges"}},
			{"The server (admin API):", []string{"alerts", "conversations", "history"}},
			{"Additional Commands:", []string{"completion", "help"}},
		} {
			i := strings.Index(out[at:], "\n"+g.title+"\n")
			if i < 0 {
				t.Fatalf("%v: root help has no group %q after offset %d:\n%s", args, g.title, at, out)
			}
			at += i + len(g.title) + 2
			for _, name := range g.commands {
				if !strings.HasPrefix(out[at:], "  "+name+" ") {
					t.Fatalf("%v: under %q, want %q next, got %q", args, g.title, name, firstLine(out[at:]))
				}
				at += len(firstLine(out[at:])) + 1
			}
		}
	}
}

func firstLine(s string) string { line, _, _ := strings.Cut(s, "\n"); return line }

// usageErr runs a command line that must be refused with exit 2 before any
// request, and returns the message.
func usageErr(t *testing.T, args ...string) string {
	t.Helper()
	srv, requests := countingServer(t)
	out, err := runAt(t, srv.URL, args...)
	if !errors.Is(err, errUsage) || exitCode(err) != 2 {
		t.Fatalf("%v: err = %v (exit %d), want a usage error, exit 2", args, err, exitCode(err))
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%v: %d requests sent before the refusal", args, n)
	}
	if out != "" {
		t.Errorf("%v printed %q besides the error", args, out)
	}
	return err.Error()
}

func TestUnknownFlagsAndExtraArgumentsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"tap", "--meter", "M", "--bay", "1", "--phone", "P", "--colour", "red"}, []string{"unknown flag: --colour", "pppsim tap --help"}},
		{[]string{"fault", "messages_5xx", "--bogus"}, []string{"unknown flag: --bogus"}},
		{[]string{"--bogus", "fault", "list"}, []string{"unknown flag: --bogus"}},
		{[]string{"charges", "extra"}, []string{`unexpected argument "extra"`, "pppsim charges"}},
		{[]string{"fault", "list", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"card", "show", "tok_1", "tok_2"}, []string{`unexpected argument "tok_2"`, "card show TOKEN"}},
		{[]string{"blacklist", "phone", "+85291234567", "more", "--reason", "x"}, []string{`unexpected argument "more"`}},
		{[]string{"fault", "messages_5xx", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"sms", "send", "hello"}, []string{"--from is required"}},
		{[]string{"blacklist", "phone", "+85291234567"}, []string{"--reason is required"}},
		{[]string{"tap", "--bay", "1", "--phone", "P"}, []string{"--meter is required"}},
		{[]string{"tap", "--meter", "M", "--bay", "1"}, []string{"phone", "card"}},
		{[]string{"tap", "--meter", "M", "--bay", "1", "--amount", "1.234", "--phone", "P"}, []string{"--amount", "more than two decimals"}},
		{[]string{"history"}, []string{"phone", "conv"}},
		{[]string{"meter", "fault", "PM-1", "--clear", "--radio-unreachable"}, []string{"clear", "radio-unreachable"}},
		{[]string{"card", "set", "tok_1", "--decline-next", "-2"}, []string{"--decline-next -2", "negative"}},
		{[]string{"meter", "add", "--id", "M", "--bays", "9-1"}, []string{"bays"}},
		{[]string{"--tz", "Mars/Olympus", "fault", "list"}, []string{"--tz", "Mars/Olympus"}},
		{[]string{"fault", "messages_5xx", "--status", "503"}, []string{"--status does not apply to fault messages_5xx", "--count"}},
		{[]string{"fault", "messages_5xx", "--count", "0"}, []string{"--count 0"}},
		{[]string{"fault", "push_apns"}, []string{"push_apns needs --status", "400", "599"}},
		{[]string{"fault", "clear", "--count", "2"}, []string{"fault clear takes no flags"}},
		{[]string{"fault", "decline_next"}, []string{"card fault", "pppsim card set TOKEN --decline-next N"}},
		{[]string{"sms", "paint"}, []string{`unknown command "paint" for "pppsim sms"`}},
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

func TestEnumerationsAreCheckedBeforeAnyRequest(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		accepted string
	}{
		{[]string{"user", "add", "--phone", "+85291234567", "--lang", "fr"}, "en, zh-HK, zh-CN"},
		{[]string{"user", "add", "--phone", "+85291234567", "--card", "gold"}, "credit, prepaid, debit"},
		{[]string{"user", "add", "--phone", "+85291234567", "--channel", "fax"}, "sms, voice"},
		{[]string{"phone", "voice", "+85291234567", "--answer", "maybe"}, "human, voicemail, busy, no-answer, failed"},
		{[]string{"phone", "set", "+85291234567", "--behaviour", "grumpy"}, "ok, unreachable, landline, filtered"},
		{[]string{"app", "add", "--phone", "+85291234567", "--platform", "pager"}, "fcm, apns"},
		{[]string{"app", "press", "app_1", "--press", "9"}, "1, 2, 3, yes, no, renew"},
		{[]string{"meter", "fault", "PM-1", "--power-loss", "sometimes"}, "before_journal, after_journal, after_execute, after_ack"},
		{[]string{"demo", "--lang", "de"}, "en, zh-HK, zh-CN"},
		{[]string{"blacklist", "email", "a@b", "--reason", "x"}, "phone, card"},
		{[]string{"fault", "messages_500"}, strings.Join(faultNames(), ", ")},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			msg := usageErr(t, tc.args...)
			if !strings.Contains(msg, tc.accepted) {
				t.Errorf("message %q does not name the accepted values %q", msg, tc.accepted)
			}
		})
	}
}

// An enumeration is matched in any case and sent in its listed spelling.
func TestEnumerationValuesAreNormalised(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	if _, err := runAt(t, srv.URL, "phone", "voice", "+85291234567", "--answer", "No-Answer"); err != nil {
		t.Fatal(err)
	}
	if got["answer"] != "no-answer" {
		t.Errorf("sent %v, want answer no-answer", got)
	}
}

func TestGlobalFlagsAnywhere(t *testing.T) {
	srv := httptest.NewServer(&fakeSim{})
	defer srv.Close()
	for _, args := range [][]string{
		{"--json", "--sim", srv.URL, "meter", "list"},
		{"meter", "--json", "list", "--sim", srv.URL},
		{"meter", "list", "--sim", srv.URL, "--json"},
		{"meter", "list", "-sim", srv.URL, "-json"},
		{"meter", "list", "--sim=" + srv.URL, "--json=true"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), args, &out); err != nil {
				t.Fatal(err)
			}
			var got []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 1 || got[0].ID != "PM-1" {
				t.Errorf("output = %q (%v), want JSON with PM-1", out.String(), err)
			}
		})
	}
}

func TestGlobalFlagsDefaultFromTheEnvironment(t *testing.T) {
	srv := httptest.NewServer(&fakeSim{})
	defer srv.Close()
	t.Setenv("PPP_SIM_URL", srv.URL)
	t.Setenv("PPP_TZ", "UTC")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"meter", "list"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "PM-1") {
		t.Errorf("output = %q, want the meter of the simulator PPP_SIM_URL names", out.String())
	}
	t.Setenv("PPP_TZ", "Nowhere/Atlantis")
	err := run(context.Background(), []string{"meter", "list"}, &out)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "Nowhere/Atlantis") {
		t.Errorf("PPP_TZ=Nowhere/Atlantis: err = %v (exit %d), want a usage error naming it", err, exitCode(err))
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash":       "# bash completion V2 for pppsim",
		"zsh":        "#compdef pppsim",
		"fish":       "complete -c pppsim",
		"powershell": "Register-ArgumentCompleter",
	} {
		out, err := runAt(t, "http://127.0.0.1:1", "completion", shell)
		if err != nil {
			t.Fatalf("completion %s: %v", shell, err)
		}
		if !strings.Contains(out, want) {
			t.Errorf("completion %s: no %q in %.200q", shell, want, out)
		}
	}
}

// completions asks the completion machinery what it offers, as the shell
// scripts do.
func completions(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := runAt(t, "http://127.0.0.1:1", append([]string{cobra.ShellCompRequestCmd}, args...)...)
	if err != nil {
		t.Fatalf("complete %v: %v", args, err)
	}
	var got []string
	for _, line := range strings.Split(out, "\n") {
		// Flags cobra offers too (a required one) are not values.
		if line == "" || strings.HasPrefix(line, ":") || strings.HasPrefix(line, "-") || strings.HasPrefix(line, "Completion ended") {
			continue
		}
		name, _, _ := strings.Cut(line, "\t")
		got = append(got, name)
	}
	return got
}

func TestEnumerationsComplete(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"user", "add", "--lang", ""}, languages},
		{[]string{"user", "add", "--card", ""}, cardKinds},
		{[]string{"phone", "voice", "+85291234567", "--answer", ""}, voiceAnswers},
		{[]string{"phone", "set", "+85291234567", "--behaviour", ""}, phoneBehaviours},
		{[]string{"app", "add", "--platform", ""}, appPlatforms},
		{[]string{"meter", "fault", "PM-1", "--power-loss", ""}, powerLossPoints},
		{[]string{"blacklist", ""}, blacklistKinds},
		{[]string{"fault", ""}, append([]string{"list"}, append(faultNames(), "clear")...)},
	} {
		got := completions(t, tc.args...)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("complete %v = %v, want %v", tc.args, got, want)
		}
	}
}

func TestFaultListText(t *testing.T) {
	out, err := runAt(t, "http://127.0.0.1:1", "fault", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(faultKinds) {
		t.Fatalf("%d lines for %d fault kinds:\n%s", len(lines), len(faultKinds), out)
	}
	for i, k := range faultKinds {
		f := strings.Fields(lines[i])
		if len(f) < 3 || f[0] != k.Name || f[1] != k.Area || !strings.HasSuffix(lines[i], "use: "+k.Usage) {
			t.Errorf("line %d = %q, want %s, %s, what it does and how to arm it", i, lines[i], k.Name, k.Area)
		}
	}
}

func TestFaultListJSON(t *testing.T) {
	for _, args := range [][]string{{"fault", "list", "--json"}, {"--json", "fault", "list"}} {
		out, err := runAt(t, "http://127.0.0.1:1", args...)
		if err != nil {
			t.Fatal(err)
		}
		var got []struct {
			Name, Area, Does, Usage string
			Flags                   []string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v in %q", args, err, out)
		}
		if len(got) != len(faultKinds) {
			t.Fatalf("%v: %d kinds, want %d", args, len(got), len(faultKinds))
		}
		seen := map[string]bool{}
		for _, k := range got {
			if k.Name == "" || k.Does == "" || k.Usage == "" || len(k.Flags) == 0 || seen[k.Name] {
				t.Errorf("%v: kind %+v incomplete or repeated", args, k)
			}
			seen[k.Name] = true
			for _, f := range k.Flags {
				if !strings.Contains(k.Usage, f) {
					t.Errorf("%s: flag %s not in its usage %q", k.Name, f, k.Usage)
				}
			}
		}
		for _, area := range []string{"carrier", "push", "card", "meter", "phone"} {
			if !slices.ContainsFunc(got, func(k struct {
				Name, Area, Does, Usage string
				Flags                   []string
			}) bool {
				return k.Area == area
			}) {
				t.Errorf("%v: no %s fault", args, area)
			}
		}
	}
}

// The table has every carrier fault kind and push provider the sim accepts,
// and no other.
func TestFaultTableMatchesTheSimulator(t *testing.T) {
	var carrier, push []string
	for _, k := range faultKinds {
		switch k.Area {
		case "carrier":
			carrier = append(carrier, k.Name)
		case "push":
			push = append(push, k.provider)
			if k.Name != "push_"+k.provider {
				t.Errorf("push kind %s is not named push_%s", k.Name, k.provider)
			}
		}
	}
	var simKinds []string
	for _, k := range sim.FaultKinds() {
		simKinds = append(simKinds, string(k))
	}
	slices.Sort(carrier)
	slices.Sort(simKinds)
	if !slices.Equal(carrier, simKinds) {
		t.Errorf("carrier faults in the table %v, the sim accepts %v", carrier, simKinds)
	}
	providers := slices.Clone(sim.PushProviders())
	slices.Sort(push)
	slices.Sort(providers)
	if !slices.Equal(push, providers) {
		t.Errorf("push faults in the table for %v, the sim has %v", push, providers)
	}
	for _, k := range faultKinds {
		if k.Area == "card" || k.Area == "meter" || k.Area == "phone" {
			// The flag that arms it exists on the command its usage names.
			path := strings.Fields(strings.TrimPrefix(k.Usage, "pppsim "))
			cmd, _, err := newRootCmd(&cli{}).Find(path)
			if err != nil || cmd.Flags().Lookup(strings.TrimPrefix(k.Flags[0], "--")) == nil {
				t.Errorf("%s: %q has no flag %s (%v)", k.Name, k.Usage, k.Flags[0], err)
			}
		}
	}
}

// Every kind `pppsim fault` arms reaches the real carrier and push
// simulators, and `fault clear` clears both.
func TestFaultArmsEveryKindInTheSimulator(t *testing.T) {
	carrier := sim.NewCarrier(sim.Config{}, nil)
	defer carrier.Close()
	ps := sim.NewPushSim(sim.PushConfig{})
	defer ps.Close()
	e := echo.New()
	carrier.Register(e)
	ps.Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()

	for _, k := range faultKinds {
		if !k.armedByFault() {
			continue
		}
		args := []string{"fault", k.Name, "--count", "3"}
		if slices.Contains(k.Flags, "--delay-ms") {
			args = append(args, "--delay-ms", "250")
		}
		if k.Area == "push" {
			args = append(args, "--status", "503")
		}
		out, err := runAt(t, srv.URL, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.Contains(out, k.Name) || !strings.Contains(out, "3 request(s)") {
			t.Errorf("%v printed %q", args, out)
		}
	}
	var armed []string
	for _, f := range carrier.Faults() {
		if f.Count != 3 {
			t.Errorf("carrier fault %+v, want count 3", f)
		}
		if (f.Kind == sim.FaultMessagesTimeout || f.Kind == sim.FaultQueueDelay) && f.DelayMS != 250 {
			t.Errorf("carrier fault %+v, want delay 250 ms", f)
		}
		armed = append(armed, string(f.Kind))
	}
	if len(armed) != len(sim.FaultKinds()) {
		t.Errorf("carrier faults armed %v, want all of %v", armed, sim.FaultKinds())
	}
	pf := ps.PushFaults()
	if len(pf) != len(sim.PushProviders()) {
		t.Errorf("push faults armed %+v, want one per provider", pf)
	}
	for _, f := range pf {
		if f.Status != 503 || f.Count != 3 {
			t.Errorf("push fault %+v, want 503 for 3 requests", f)
		}
	}

	out, err := runAt(t, srv.URL, "--json", "fault", "push_fcm", "--status", "429")
	var listed []sim.PushFault
	if err != nil || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 3 {
		t.Errorf("--json fault push_fcm: %v, %q, want the armed push faults", err, out)
	}

	if out, err := runAt(t, srv.URL, "fault", "clear"); err != nil || !strings.Contains(out, "cleared") {
		t.Fatalf("fault clear: %v (%q)", err, out)
	}
	if len(carrier.Faults()) != 0 || len(ps.PushFaults()) != 0 {
		t.Errorf("after fault clear: carrier %v, push %v", carrier.Faults(), ps.PushFaults())
	}
}
