package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ppprenew/workflows/carrier"
	"ppprenew/workflows/engine"
)

func TestParseMix(t *testing.T) {
	good := map[string]Mix{
		"sms=70,voice=20,app=10": {SMS: 70, Voice: 20, App: 10},
		"app=10,sms=90":          {SMS: 90, App: 10},
		"voice=100":              {Voice: 100},
		"sms=100,voice=0":        {SMS: 100},
	}
	for in, want := range good {
		if got, err := ParseMix(in); err != nil || got != want {
			t.Errorf("ParseMix(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                        "empty",
		"sms=70,voice=20":         "sums to 90",
		"sms=70,voice=20,app=20":  "sums to 110",
		"sms=70,sms=30":           "given twice",
		"sms=70,fax=30":           `unknown channel "fax"`,
		"SMS=100":                 `unknown channel "SMS"`,
		"sms=70,voice=30,":        `part 3 ""`,
		"sms 100":                 "not channel=percent",
		"sms=50.5,voice=49.5":     "not a whole percent",
		"sms=-10,voice=110":       "not a whole percent",
		"sms=+100":                "not a whole percent",
		"sms= 100":                "not a whole percent",
		"sms=200,voice=-100":      "not a whole percent",
		"sms=70, voice=20,app=10": `unknown channel " voice"`,
	}
	for in, want := range bad {
		if _, err := ParseMix(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMix(%q) error %v, want it to say %q", in, err, want)
		}
	}
	if m, err := ParseMix(DefaultMix.String()); err != nil || m != DefaultMix {
		t.Fatalf("the default mix does not round-trip: %+v %v", m, err)
	}
}

// Drivers get their channels in the mix's proportions at every prefix of
// the run, so a run cut short keeps the mix.
func TestMixAssign(t *testing.T) {
	got := Mix{SMS: 50, Voice: 25, App: 25}.assign(12)
	n := map[string]int{}
	for i, ch := range got {
		n[ch]++
		if i == 3 && (n[SMS] != 2 || n[Voice] != 1 || n[App] != 1) {
			t.Fatalf("first four drivers %v, want 2 sms, 1 voice, 1 app", got[:4])
		}
	}
	if n[SMS] != 6 || n[Voice] != 3 || n[App] != 3 {
		t.Fatalf("12 drivers %v, want 6/3/3", got)
	}
	seven := map[string]int{}
	for _, ch := range (Mix{SMS: 70, Voice: 20, App: 10}).assign(10) {
		seven[ch]++
	}
	if seven[SMS] != 7 || seven[Voice] != 2 || seven[App] != 1 {
		t.Fatalf("10 drivers of 70/20/10: %v", seven)
	}
	for _, ch := range (Mix{Voice: 100}).assign(5) {
		if ch != Voice {
			t.Fatalf("voice=100 gave a %s driver", ch)
		}
	}
}

func TestPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	// 1..100 ms, shuffled: nearest rank gives the p-th value itself.
	var hundred []int
	for i := 100; i >= 1; i-- {
		hundred = append(hundred, i)
	}
	if got := summarise(ms(hundred...)); got != (Latency{Count: 100, P50: 50, P90: 90, P99: 99, Max: 100}) {
		t.Fatalf("1..100: %+v", got)
	}
	if got := summarise(ms(7)); got != (Latency{Count: 1, P50: 7, P90: 7, P99: 7, Max: 7}) {
		t.Fatalf("one sample: %+v", got)
	}
	// Ten samples: p50 is the 5th, p90 the 9th, p99 the 10th.
	if got := summarise(ms(10, 1, 9, 2, 8, 3, 7, 4, 6, 5)); got != (Latency{Count: 10, P50: 5, P90: 9, P99: 10, Max: 10}) {
		t.Fatalf("ten samples: %+v", got)
	}
	if got := summarise(nil); got != (Latency{}) {
		t.Fatalf("no samples: %+v", got)
	}
	if got := summarise([]time.Duration{1500 * time.Microsecond}); got.P50 != 1.5 {
		t.Fatalf("sub-millisecond rounding: %+v", got)
	}
	in := ms(3, 1, 2)
	summarise(in)
	if in[0] != 3*time.Millisecond {
		t.Fatal("summarise sorted its input")
	}
}

// healthy is what a development server and world say of themselves.
func healthy() (serverInfo, worldInfo) {
	var srv serverInfo
	srv.Carrier, srv.SMSRate = "sim", 10
	s := &srv.Settings
	s.LeadTime, s.TimeZone, s.DefaultLanguage = "10m0s", "Asia/Hong_Kong", "en"
	s.QuietHours.Start, s.QuietHours.End = "22:00", "07:00"
	for _, ch := range []string{"push", "sms", "voice"} {
		s.Escalation = append(s.Escalation, struct {
			Channel string `json:"channel"`
		}{ch})
	}
	s.Templates = map[string]map[string]string{"en": {"notice": "n {{.Bay}}", "quote": "q", "confirmed": "c", "confirmed_central": "cc"}}
	return srv, worldInfo{ServerURL: "http://127.0.0.1:8080", VoiceTick: "250ms", MaxCallsInProgress: 500}
}

var noon = time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC) // 12:00 in Hong Kong

func opts() Options {
	return Options{Drivers: 100, Rate: 2, Mix: DefaultMix, Duration: time.Minute, Server: "http://127.0.0.1:8080", Sim: "http://127.0.0.1:8081"}
}

func TestOptionsRefused(t *testing.T) {
	cases := []struct {
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.Rate = 0 }, "rate must be a positive number"},
		{func(o *Options) { o.Rate = -1 }, "rate must be a positive number"},
		{func(o *Options) { o.Drivers = 0 }, "drivers must be at least 1"},
		{func(o *Options) { o.Drivers = MaxDrivers + 1 }, "do not fit one run's namespace: at most 10000"},
		{func(o *Options) { o.Mix = Mix{SMS: 60, Voice: 20} }, "sums to 80, not 100"},
		{func(o *Options) { o.Duration = -time.Second }, "duration must not be negative"},
		{func(o *Options) { o.Server = "" }, "server's base URL is required"},
	}
	for _, c := range cases {
		o := opts()
		c.change(&o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	if err := opts().Validate(); err != nil {
		t.Fatal(err)
	}
	max := opts()
	max.Drivers = MaxDrivers
	if err := max.Validate(); err != nil {
		t.Fatalf("a full namespace refused: %v", err)
	}
}

func TestCheckRefusesWhatTheWorldCannotCarry(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Options, *serverInfo, *worldInfo)
		want   string
	}{
		{"not sim", func(_ *Options, s *serverInfo, _ *worldInfo) { s.Carrier = "twilio" }, `not in sim mode (carrier "twilio")`},
		// 4/s of 70/20/10 is 4*(0.7*3+0.2*1) = 9.2 texts/s; 5/s is 11.5.
		{"sms pacing", func(o *Options, _ *serverInfo, _ *worldInfo) { o.Rate = 5 }, "needs 11.5 texts/s from the platform number (3 per SMS journey, 1 per voice journey), above the server's SMS pacing of 10/s (PPP_SMS_RATE): use --rate 4.34 or less"},
		// 250 ms ticks: a call lasts up to 17.5 s; 500 in progress is 28.6 calls/s.
		{"voice capacity", func(o *Options, s *serverInfo, _ *worldInfo) { o.Rate, o.Mix, s.SMSRate = 30, Mix{Voice: 100}, 1000 },
			"places 30.0 calls/s; each renewal call lasts about 17.5s in the world (voice tick 250ms), so about 525 calls would be in progress, above the 500 the world's voice simulation carries: use a voice rate of at most 28.6 calls/s"},
		{"pin", func(_ *Options, s *serverInfo, _ *worldInfo) { s.Settings.Voice.PINRequired = true }, "voice.pin_required"},
		{"no voice step", func(_ *Options, s *serverInfo, _ *worldInfo) { s.Settings.Escalation = s.Settings.Escalation[:2] }, "voice journeys but the server's escalation has no voice step"},
		{"lead time", func(_ *Options, s *serverInfo, _ *worldInfo) { s.Settings.LeadTime = "soon" }, `lead_time "soon"`},
		{"templates", func(_ *Options, s *serverInfo, _ *worldInfo) { delete(s.Settings.Templates["en"], "quote") }, `no "quote" template`},
		{"world tick", func(_ *Options, _ *serverInfo, w *worldInfo) { w.VoiceTick = "" }, "cannot tell what its voice simulation carries"},
	}
	for _, c := range cases {
		o := opts()
		srv, w := healthy()
		c.change(&o, &srv, &w)
		if _, err := check(o, srv, w, true, noon); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	srv, w := healthy()
	p, err := check(opts(), srv, w, true, noon)
	if err != nil || len(p.warnings) != 0 || p.lead != 10*time.Minute || p.language != "en" {
		t.Fatalf("a healthy run: %+v %v", p, err)
	}
	// Just under the limits is carried.
	o := opts()
	o.Rate = 4.34
	if _, err := check(o, srv, w, true, noon); err != nil {
		t.Fatalf("4.34/s refused: %v", err)
	}
	o.Rate, o.Mix, srv.SMSRate = 28, Mix{Voice: 100}, 1000
	if _, err := check(o, srv, w, true, noon); err != nil {
		t.Fatalf("28 calls/s refused: %v", err)
	}
	srv.SMSRate = 10
	// Without voice, a PIN or voice capacity do not matter.
	o, srv.Settings.Voice.PINRequired, w.VoiceTick = opts(), true, ""
	o.Mix = Mix{SMS: 90, App: 10}
	if _, err := check(o, srv, w, true, noon); err != nil {
		t.Fatalf("a run without voice refused: %v", err)
	}
}

func TestCheckWarns(t *testing.T) {
	srv, w := healthy()
	night := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC) // 23:00 in Hong Kong
	// By default voice drivers take calls at any hour: nothing to warn of.
	if p, err := check(opts(), srv, w, true, night); err != nil || len(p.warnings) != 0 || p.respectQuietHours {
		t.Fatalf("at 23:00, calls at any hour: %q %v", p.warnings, err)
	}
	quiet := opts()
	quiet.RespectQuietHours = true
	p, err := check(quiet, srv, w, true, night)
	if err != nil || len(p.warnings) != 1 || !strings.Contains(p.warnings[0], "quiet hours (22:00-07:00 Asia/Hong_Kong)") || !p.respectQuietHours {
		t.Fatalf("at 23:00: %q %v", p.warnings, err)
	}
	// A run that would reach 22:00 is warned of too.
	evening := time.Date(2026, 3, 2, 13, 59, 0, 0, time.UTC) // 21:59
	if p, _ := check(quiet, srv, w, true, evening); len(p.warnings) != 1 {
		t.Fatalf("at 21:59, a 3-minute run: %q", p.warnings)
	}
	noVoice := quiet
	noVoice.Mix = Mix{SMS: 100}
	if p, _ := check(noVoice, srv, w, true, night); len(p.warnings) != 0 {
		t.Fatalf("no voice journeys at night: %q", p.warnings)
	}
	srv.Settings.QuietHours.Start, srv.Settings.QuietHours.End = "00:00", "00:00"
	if p, _ := check(quiet, srv, w, true, night); len(p.warnings) != 0 {
		t.Fatalf("an empty quiet window: %q", p.warnings)
	}
	srv, _ = healthy()
	srv.SMSRate = 0
	p, err = check(opts(), srv, worldInfo{}, false, noon)
	if err != nil || len(p.warnings) != 2 || !strings.Contains(p.warnings[0], "sms_rate") || !strings.Contains(p.warnings[1], "GET /sim/v1/world") {
		t.Fatalf("an old server and world: %q %v", p.warnings, err)
	}
	srv, w = healthy()
	w.ServerURL = "http://127.0.0.1:9999"
	if p, err = check(opts(), srv, w, true, noon); err != nil || len(p.warnings) != 1 || !strings.Contains(p.warnings[0], "the world plays against http://127.0.0.1:9999") {
		t.Fatalf("a world playing against another server: %q %v", p.warnings, err)
	}
}

func TestQuietDuring(t *testing.T) {
	hk := func(h, m int) time.Time {
		loc, _ := time.LoadLocation("Asia/Hong_Kong")
		return time.Date(2026, 3, 2, h, m, 0, 0, loc)
	}
	cases := []struct {
		start, end string
		from       time.Time
		length     time.Duration
		want       bool
	}{
		{"22:00", "07:00", hk(12, 0), time.Hour, false},
		{"22:00", "07:00", hk(23, 0), time.Minute, true},
		{"22:00", "07:00", hk(6, 59), 0, true},
		{"22:00", "07:00", hk(7, 0), time.Hour, false},
		{"22:00", "07:00", hk(21, 30), 30 * time.Minute, true},
		{"22:00", "07:00", hk(21, 30), 29 * time.Minute, false},
		{"12:00", "13:00", hk(12, 30), 0, true},
		{"00:00", "00:00", hk(3, 0), 48 * time.Hour, false},
		{"", "", hk(3, 0), time.Hour, false},
	}
	for _, c := range cases {
		if got := quietDuring(c.start, c.end, "Asia/Hong_Kong", c.from, c.length); got != c.want {
			t.Errorf("%s-%s from %s for %s: %v", c.start, c.end, c.from.Format("15:04"), c.length, got)
		}
	}
}

// The shipped templates are told apart: a notice is not taken for the menu
// it ends with, a confirmation is one of either kind.
func TestMatcherKnowsTheShippedTemplates(t *testing.T) {
	s, err := engine.ParseSettings(engine.DefaultSettingsYAML())
	if err != nil {
		t.Fatal(err)
	}
	m := newMatcher(s.Templates["en"])
	cases := map[string]string{
		"Demo City Parking: bay 1 at Load Test Road ends 16:53. Reply 1 to extend 30 min, 2 for a reminder before 17:03, 3 to renew in the app.": "notice",
		"Extend bay 1 to 17:23 for HKD 10.00 on card ending 0001? Reply 1 to confirm, 2 to cancel.":                                              "quote",
		"Renewed: bay 1 at Load Test Road is paid until 17:23. HKD 10.00 charged to card ending 0001.":                                           "confirmed",
		"Renewed: bay 1 is paid until 17:23 (HKD 10.00, card ending 0001). The meter display may not show it yet; enforcement uses our record.":  "confirmed_central",
		"Reply 1 to extend 30 min, 2 for a reminder before 17:03, 3 to renew in the app.":                                                        "menu",
		"something else": "",
	}
	for body, want := range cases {
		if got := m.kind(body); got != want {
			t.Errorf("%q is %q, want %q", body, got, want)
		}
	}
}

// An unreachable server or world is named with its address, and a server
// not in sim mode is refused, before anything is set up.
func TestRunRefusesUnreachableOrRealServers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	var posts int
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			posts++
		}
		switch {
		case r.Header.Get("Authorization") != "Bearer "+carrier.DevAdminToken:
			http.Error(w, `{"error":{"code":"unauthorized"}}`, http.StatusUnauthorized)
		case r.URL.Path == "/admin/v1/server":
			_, _ = w.Write([]byte(`{"carrier":"twilio","settings":{}}`))
		case r.URL.Path == "/sim/admin/v1/server":
			_, _ = w.Write([]byte(`{"carrier":"sim","settings":{}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer server.Close()

	o := opts()
	o.AdminToken = carrier.DevAdminToken
	o.Server = closed
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "the server at "+closed+" is unreachable") {
		t.Errorf("closed server: %v", err)
	}
	o.Server, o.Sim = server.URL, closed
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "not in sim mode") {
		t.Errorf("real server: %v", err)
	}
	o.Server = server.URL + "/sim" // a server in sim mode, and no world
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "the simulated world at "+closed+" is unreachable") {
		t.Errorf("no world: %v", err)
	}
	o.Server, o.AdminToken = server.URL, "wrong"
	if _, err := Check(context.Background(), o); err == nil || !strings.Contains(err.Error(), "refused the admin token") {
		t.Errorf("wrong token: %v", err)
	}
	if posts != 0 {
		t.Fatalf("%d requests other than reads reached the server", posts)
	}
}
