package engine

import (
	"testing"
	"time"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		given string
		want  Money
		err   bool
	}{
		{"12", 1200, false}, {"12.5", 1250, false}, {"12.50", 1250, false}, {"0.05", 5, false},
		{"12.505", 0, true}, {"-1", 0, true}, {"abc", 0, true}, {"", 0, true}, {".5", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.given)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d, err=%v", tt.given, got, err, tt.want, tt.err)
		}
	}
}

func TestMoneyFormat(t *testing.T) {
	for given, want := range map[Money]string{0: "HKD 0.00", 5: "HKD 0.05", 123450: "HKD 1,234.50", 100000000: "HKD 1,000,000.00"} {
		if got := given.Format("HKD"); got != want {
			t.Errorf("%d.Format = %q, want %q", given, got, want)
		}
	}
}

func TestTariffPrice(t *testing.T) {
	flat := Tariff{RatePerHour: 2000}
	prog := Tariff{RatePerHour: 2400, Progressive: []Band{{After: time.Hour, RatePerHour: 3600}, {After: 2 * time.Hour, RatePerHour: 6000}}}
	tests := []struct {
		name     string
		tariff   Tariff
		from, to time.Duration
		want     Money
	}{
		{"flat half hour", flat, 0, 30 * time.Minute, 1000},
		{"flat later half hour same price", flat, 90 * time.Minute, 2 * time.Hour, 1000},
		{"empty interval", flat, time.Hour, time.Hour, 0},
		{"inside first band", prog, 0, 30 * time.Minute, 1200},
		{"inside second band", prog, 70 * time.Minute, 100 * time.Minute, 1800},
		{"across one band edge", prog, 45 * time.Minute, 75 * time.Minute, 600 + 900},
		{"across two band edges", prog, 50 * time.Minute, 130 * time.Minute, 400 + 3600 + 1000},
		{"rounds up to the cent", Tariff{RatePerHour: 1000}, 0, 7 * time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tariff.Price(tt.from, tt.to); got != tt.want {
				t.Fatalf("Price(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}
