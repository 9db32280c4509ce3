package devicelink

import (
	"errors"
	"testing"
)

func testRecord(seq uint64) TxnRecord {
	return TxnRecord{
		Seq: seq, TxnID: "t" + string(rune('0'+seq)), Bay: "12", CardToken: "tok_abcd1234",
		AmountMinor: 500, Currency: "HKD",
		PaidAt: "2030-01-01T10:00:00Z", PaidUntil: "2030-01-01T11:00:00Z",
	}
}

func TestChainLinksRecords(t *testing.T) {
	r1 := Chain("", testRecord(1))
	r2 := Chain(r1.Hash, testRecord(2))
	if r1.PrevHash != GenesisHash {
		t.Errorf("first prev_hash = %s", r1.PrevHash)
	}
	if r2.PrevHash != r1.Hash || !r1.HashOK() || !r2.HashOK() {
		t.Fatal("chain does not link")
	}
	if err := r2.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// The hash covers every field and the link.
	for name, mut := range map[string]func(*TxnRecord){
		"seq":        func(r *TxnRecord) { r.Seq++ },
		"txn_id":     func(r *TxnRecord) { r.TxnID += "x" },
		"bay":        func(r *TxnRecord) { r.Bay = "13" },
		"card_token": func(r *TxnRecord) { r.CardToken += "x" },
		"amount":     func(r *TxnRecord) { r.AmountMinor++ },
		"currency":   func(r *TxnRecord) { r.Currency = "USD" },
		"paid_at":    func(r *TxnRecord) { r.PaidAt = "2030-01-01T10:00:01Z" },
		"paid_until": func(r *TxnRecord) { r.PaidUntil = "2030-01-01T12:00:00Z" },
		"prev_hash":  func(r *TxnRecord) { r.PrevHash = GenesisHash },
	} {
		bad := r2
		mut(&bad)
		if bad.HashOK() {
			t.Errorf("changing %s keeps the hash valid", name)
		}
	}
}

func TestTxnRecordValidate(t *testing.T) {
	tests := []struct {
		name string
		mut  func(*TxnRecord)
	}{
		{"seq zero", func(r *TxnRecord) { r.Seq = 0 }},
		{"empty txn id", func(r *TxnRecord) { r.TxnID = "" }},
		{"newline in bay", func(r *TxnRecord) { r.Bay = "1\n2" }},
		{"negative amount", func(r *TxnRecord) { r.AmountMinor = -1 }},
		{"bad paid_at", func(r *TxnRecord) { r.PaidAt = "yesterday" }},
		{"bad paid_until", func(r *TxnRecord) { r.PaidUntil = "2030-13-01T00:00:00Z" }},
		{"short hash", func(r *TxnRecord) { r.Hash = "abc" }},
		{"upper-case hash", func(r *TxnRecord) { r.PrevHash = "A" + GenesisHash[1:] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Chain("", testRecord(1))
			tc.mut(&r)
			if err := r.Validate(); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
