package admin_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"ppprenew/workflows"
	"ppprenew/workflows/admin"
)

func TestNewAPIRefusesMissingDependencies(t *testing.T) {
	runner := &workflows.Runner{}
	valid := func() (admin.Config, admin.Deps) {
		return admin.Config{DefaultRegion: "HK"}, admin.Deps{Runner: runner, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*admin.Config, *admin.Deps)
		expect string
	}{
		{"region", func(c *admin.Config, _ *admin.Deps) { c.DefaultRegion = "" }, "no default region"},
		{"unknown region", func(c *admin.Config, _ *admin.Deps) { c.DefaultRegion = "hk" }, `default region "hk"`},
		{"runner", func(_ *admin.Config, d *admin.Deps) { d.Runner = nil }, "no runner"},
		{"logger", func(_ *admin.Config, d *admin.Deps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, d := valid()
			tc.change(&c, &d)
			a, err := admin.NewAPI(c, d)
			if err == nil || a != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "admin API: ") {
				t.Fatalf("NewAPI = %v, %v; want nil and an error with %q", a, err, tc.expect)
			}
		})
	}
	c, d := valid()
	a, err := admin.NewAPI(c, d)
	if err != nil {
		t.Fatal(err)
	}
	if a.Runner != runner || a.DefaultRegion != "HK" || a.Log != d.Log {
		t.Fatalf("NewAPI did not keep its dependencies: %+v", a)
	}
}
