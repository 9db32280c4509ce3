package devicelink

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to the decoder: it must never panic, must
// fail with one of the envelope errors, and whatever it accepts must re-seal
// to the identical bytes (the format has exactly one encoding).
func FuzzOpen(f *testing.F) {
	f.Add(sealFor(f, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 1, MeterID: "M-1"}, []byte(`{"type":"hello"}`)))
	f.Add([]byte("PPPD\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys := meterKeys()
		h, body, err := Open(keys, data)
		if err != nil {
			for _, want := range []error{ErrMalformed, ErrAuth, ErrReplay, ErrUnknownMeter, ErrEpoch} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("unexpected error kind: %v", err)
		}
		key, err := keys.OpenKey(h)
		if err != nil {
			t.Fatal(err)
		}
		if again := Seal(key, h, body); !bytes.Equal(again, data) {
			t.Fatalf("accepted envelope does not re-seal identically")
		}
	})
}

// TestFuzzSeedCorpus checks the seed corpus says what its file names say:
// valid_* seeds open, the others are refused.
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 5 {
		t.Fatalf("only %d seeds", len(entries))
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a fuzz seed file", e.Name())
		}
		quoted := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		data, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		_, _, err = Open(meterKeys(), []byte(data))
		if valid := strings.HasPrefix(e.Name(), "valid_"); valid != (err == nil) {
			t.Errorf("%s: err = %v", e.Name(), err)
		}
	}
}
