package devicelink

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GenesisHash is the prev_hash of a meter's first record (seq 1).
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// TxnRecord is one payment as a meter uploads it. Records of a meter form a
// hash chain: Hash = hex(SHA-256(PrevHash "\n" seq "\n" txn_id "\n" bay "\n"
// card_token "\n" amount_minor "\n" currency "\n" paid_at "\n" paid_until)),
// with the time fields hashed exactly as sent, and PrevHash the Hash of record
// Seq-1 (GenesisHash for Seq 1).
type TxnRecord struct {
	// Seq numbers the meter's records from 1 without gaps.
	Seq uint64 `json:"seq"`
	// TxnID is unique per meter.
	TxnID string `json:"txn_id"`
	// Bay is the bay paid for.
	Bay string `json:"bay"`
	// CardToken is the payment network's token of the card (never the PAN).
	CardToken string `json:"card_token"`
	// AmountMinor is the amount in minor units (cents).
	AmountMinor int64 `json:"amount_minor"`
	// Currency is the ISO 4217 code.
	Currency string `json:"currency"`
	// PaidAt is when the card was tapped (RFC 3339).
	PaidAt string `json:"paid_at"`
	// PaidUntil is the bay's resulting paid-until time (RFC 3339).
	PaidUntil string `json:"paid_until"`
	// PrevHash is the Hash of the previous record.
	PrevHash string `json:"prev_hash"`
	// Hash is this record's chain hash.
	Hash string `json:"hash"`
}

// ComputeHash returns the chain hash of r over r.PrevHash and its fields
// (r.Hash itself is ignored).
func (r TxnRecord) ComputeHash() string {
	var b strings.Builder
	for i, f := range []string{
		r.PrevHash, strconv.FormatUint(r.Seq, 10), r.TxnID, r.Bay, r.CardToken,
		strconv.FormatInt(r.AmountMinor, 10), r.Currency, r.PaidAt, r.PaidUntil,
	} {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Chain appends r after prev: it sets r.PrevHash to prev's hash (GenesisHash
// when prevHash is "") and r.Hash, and returns r.
func Chain(prevHash string, r TxnRecord) TxnRecord {
	if prevHash == "" {
		prevHash = GenesisHash
	}
	r.PrevHash = prevHash
	r.Hash = r.ComputeHash()
	return r
}

// Validate checks the record's fields and its own hash (not its link to the
// previous record, which only the stored chain can check).
func (r TxnRecord) Validate() error {
	if r.Seq == 0 {
		return fmt.Errorf("%w: seq 0", ErrInvalid)
	}
	for name, v := range map[string]string{"txn_id": r.TxnID, "bay": r.Bay, "card_token": r.CardToken, "currency": r.Currency} {
		if v == "" || len(v) > 128 || hasControl(v) {
			return fmt.Errorf("%w: record %d: bad %s", ErrInvalid, r.Seq, name)
		}
	}
	if r.AmountMinor < 0 {
		return fmt.Errorf("%w: record %d: negative amount", ErrInvalid, r.Seq)
	}
	if _, err := time.Parse(time.RFC3339, r.PaidAt); err != nil || hasControl(r.PaidAt) {
		return fmt.Errorf("%w: record %d: bad paid_at", ErrInvalid, r.Seq)
	}
	if _, err := time.Parse(time.RFC3339, r.PaidUntil); err != nil || hasControl(r.PaidUntil) {
		return fmt.Errorf("%w: record %d: bad paid_until", ErrInvalid, r.Seq)
	}
	if !isHexHash(r.PrevHash) || !isHexHash(r.Hash) {
		return fmt.Errorf("%w: record %d: bad hash encoding", ErrInvalid, r.Seq)
	}
	return nil
}

// HashOK reports whether r.Hash matches r's fields and PrevHash.
func (r TxnRecord) HashOK() bool { return r.Hash == r.ComputeHash() }

func hasControl(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
