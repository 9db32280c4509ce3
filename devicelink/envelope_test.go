package devicelink

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// testMaster is a fixed master key for envelope tests.
var testMaster = bytes.Repeat([]byte{0x42}, KeyLen)

func sealFor(t testing.TB, d Direction, h Header, body []byte) []byte {
	t.Helper()
	key, err := DeriveKey(testMaster, d, h.Epoch, h.MeterID)
	if err != nil {
		t.Fatal(err)
	}
	return Seal(key, h, body)
}

func meterKeys() *StaticKeys {
	return &StaticKeys{MeterID: "M-1", Epoch: 1, Master: testMaster, Direction: MeterToPlatform}
}

func TestSealOpenRoundTrip(t *testing.T) {
	body := []byte(`{"type":"poll"}`)
	h := Header{Type: TypeMeter, Epoch: 1, Counter: 7, MeterID: "M-1"}
	env := sealFor(t, MeterToPlatform, h, body)
	got, gotBody, err := Open(meterKeys(), env)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	h.Version = Version
	if got != h {
		t.Errorf("header = %+v, want %+v", got, h)
	}
	if !bytes.Equal(gotBody, body) {
		t.Errorf("body = %q, want %q", gotBody, body)
	}
	if len(env) != 19+len("M-1")+len(body)+16 {
		t.Errorf("envelope length %d", len(env))
	}
	if bytes.Contains(env, body) {
		t.Error("body travels in clear")
	}
}

// TestWireFormatIsStable pins version 1 of the format (the expected bytes were
// also produced by an independent implementation of the spec): a key derivation or
// layout change breaks every deployed meter and must fail here.
func TestWireFormatIsStable(t *testing.T) {
	key, err := DeriveKey(testMaster, MeterToPlatform, 1, "M-1")
	if err != nil {
		t.Fatal(err)
	}
	env := Seal(key, Header{Type: TypeMeter, Epoch: 1, Counter: 7, MeterID: "M-1"}, []byte(`{"type":"poll"}`))
	const want = "505050440101000000010000000000000007034d2d3131967b28d831c3260a641aa5a026f9fb1e3f87940de4c6f4f41572500cbf7c"
	if got := hex.EncodeToString(env); got != want {
		t.Errorf("envelope = %s\nwant       %s", got, want)
	}
	if got := hex.EncodeToString(env[:22]); got != "50505044"+"01"+"01"+"00000001"+"0000000000000007"+"03"+hex.EncodeToString([]byte("M-1")) {
		t.Errorf("header bytes = %s", got)
	}
}

func TestDeriveKeySeparatesDirectionsEpochsMeters(t *testing.T) {
	base, _ := DeriveKey(testMaster, MeterToPlatform, 1, "M-1")
	for _, tc := range []struct {
		name  string
		d     Direction
		epoch uint32
		id    string
	}{
		{"direction", PlatformToMeter, 1, "M-1"},
		{"epoch", MeterToPlatform, 2, "M-1"},
		{"meter", MeterToPlatform, 1, "M-2"},
	} {
		k, err := DeriveKey(testMaster, tc.d, tc.epoch, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(k, base) {
			t.Errorf("%s: derived the same key", tc.name)
		}
	}
	if _, err := DeriveKey(testMaster[:16], MeterToPlatform, 1, "M-1"); !errors.Is(err, ErrInvalid) {
		t.Errorf("short master key: err = %v, want ErrInvalid", err)
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	body := []byte(`{"type":"poll"}`)
	env := sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 7, MeterID: "M-1"}, body)
	// Layout: magic 0-3, version 4, type 5, epoch 6-9, counter 10-17,
	// id length 18, id 19-21, ciphertext 22..len-17, tag last 16.
	tests := []struct {
		name   string
		offset int
		want   []error // any of
	}{
		{"magic", 0, []error{ErrMalformed}},
		{"version", 4, []error{ErrMalformed}},
		{"type", 5, []error{ErrMalformed}},
		{"epoch", 9, []error{ErrEpoch}},
		{"counter", 17, []error{ErrAuth}},
		{"id length", 18, []error{ErrMalformed, ErrUnknownMeter}},
		{"meter id", 21, []error{ErrUnknownMeter}},
		{"ciphertext", 22, []error{ErrAuth}},
		{"ciphertext end", len(env) - 17, []error{ErrAuth}},
		{"tag", len(env) - 1, []error{ErrAuth}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Clone(env)
			bad[tc.offset] ^= 0x01
			_, _, err := Open(meterKeys(), bad)
			if err == nil {
				t.Fatal("tampered envelope opened")
			}
			ok := false
			for _, w := range tc.want {
				ok = ok || errors.Is(err, w)
			}
			if !ok {
				t.Errorf("err = %v, want one of %v", err, tc.want)
			}
		})
	}
	// Every single bit of the authenticated part fails, whatever the reason.
	for i := range env {
		for bit := 0; bit < 8; bit++ {
			bad := bytes.Clone(env)
			bad[i] ^= 1 << bit
			if _, _, err := Open(meterKeys(), bad); err == nil {
				t.Fatalf("flipping byte %d bit %d still opened", i, bit)
			}
		}
	}
}

func TestOpenTruncated(t *testing.T) {
	env := sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 1, MeterID: "M-1"}, []byte("{}"))
	for n := 0; n < len(env); n++ {
		if _, _, err := Open(meterKeys(), env[:n]); err == nil {
			t.Fatalf("truncated to %d bytes still opened", n)
		}
	}
}

func TestOpenReplay(t *testing.T) {
	keys := meterKeys()
	e5 := sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 5, MeterID: "M-1"}, []byte("{}"))
	e4 := sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 4, MeterID: "M-1"}, []byte("{}"))
	e6 := sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 6, MeterID: "M-1"}, []byte("{}"))
	if _, _, err := Open(keys, e5); err != nil {
		t.Fatalf("first open: %v", err)
	}
	for name, env := range map[string][]byte{"same": e5, "older": e4} {
		if _, _, err := Open(keys, env); !errors.Is(err, ErrReplay) {
			t.Errorf("%s counter: err = %v, want ErrReplay", name, err)
		}
	}
	if _, _, err := Open(keys, e6); err != nil {
		t.Errorf("next counter: %v", err)
	}
}

func TestOpenForgeryDoesNotAdvanceCounter(t *testing.T) {
	keys := meterKeys()
	forged := sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 1000, MeterID: "M-1"}, []byte("{}"))
	forged[len(forged)-1] ^= 0xff
	if _, _, err := Open(keys, forged); !errors.Is(err, ErrAuth) {
		t.Fatalf("forged: err = %v, want ErrAuth", err)
	}
	if _, _, err := Open(keys, sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 2, MeterID: "M-1"}, []byte("{}"))); err != nil {
		t.Errorf("genuine envelope after a forgery: %v", err)
	}
}

func TestOpenKeyMismatch(t *testing.T) {
	otherMaster := bytes.Repeat([]byte{0x43}, KeyLen)
	wrongKey, _ := DeriveKey(otherMaster, MeterToPlatform, 1, "M-1")
	p2mKey, _ := DeriveKey(testMaster, PlatformToMeter, 1, "M-1")
	m2pKey, _ := DeriveKey(testMaster, MeterToPlatform, 1, "M-1")
	tests := []struct {
		name string
		env  []byte
		want error
	}{
		{"other meter's master key", Seal(wrongKey, Header{Type: TypeMeter, Epoch: 1, Counter: 1, MeterID: "M-1"}, []byte("{}")), ErrAuth},
		{"wrong epoch", sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 2, Counter: 1, MeterID: "M-1"}, []byte("{}")), ErrEpoch},
		{"wrong meter id", sealFor(t, MeterToPlatform, Header{Type: TypeMeter, Epoch: 1, Counter: 1, MeterID: "M-2"}, []byte("{}")), ErrUnknownMeter},
		{"p2m key under m2p type", Seal(p2mKey, Header{Type: TypeMeter, Epoch: 1, Counter: 1, MeterID: "M-1"}, []byte("{}")), ErrAuth},
		{"reflected platform envelope", Seal(m2pKey, Header{Type: TypePlatform, Epoch: 1, Counter: 1, MeterID: "M-1"}, []byte("{}")), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Open(meterKeys(), tc.env); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSealPanicsOnProgrammingErrors(t *testing.T) {
	key, _ := DeriveKey(testMaster, MeterToPlatform, 1, "M-1")
	for name, f := range map[string]func(){
		"short key":    func() { Seal(key[:16], Header{Type: TypeMeter, MeterID: "M-1"}, nil) },
		"unknown type": func() { Seal(key, Header{Type: 9, MeterID: "M-1"}, nil) },
		"empty id":     func() { Seal(key, Header{Type: TypeMeter}, nil) },
		"long id":      func() { Seal(key, Header{Type: TypeMeter, MeterID: string(make([]byte, 256))}, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestMeterCodecTalksToStaticKeys(t *testing.T) {
	c, err := NewMeterCodec("M-1", 1, testMaster, 41)
	if err != nil {
		t.Fatal(err)
	}
	env, ctr, err := c.SealMessage(MeterMessage{Type: MsgPoll})
	if err != nil || ctr != 42 {
		t.Fatalf("SealMessage: ctr %d err %v", ctr, err)
	}
	if _, body, err := Open(meterKeys(), env); err != nil || string(body) != `{"type":"poll"}` {
		t.Fatalf("platform open: %q %v", body, err)
	}
	reply := sealFor(t, PlatformToMeter, Header{Type: TypePlatform, Epoch: 1, Counter: 3, MeterID: "M-1"}, []byte(`{"commands":[],"server_time":"2030-01-02T03:04:05Z"}`))
	r, _, err := c.OpenReply(reply)
	if err != nil || r.ServerTime.Year() != 2030 {
		t.Fatalf("OpenReply: %+v %v", r, err)
	}
	if _, _, err := c.OpenReply(reply); !errors.Is(err, ErrReplay) {
		t.Errorf("replayed reply: err = %v, want ErrReplay", err)
	}
	if sent, recv := c.Counters(); sent != 42 || recv != 3 {
		t.Errorf("counters = %d, %d", sent, recv)
	}
}
