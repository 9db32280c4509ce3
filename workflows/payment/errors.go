package payment

import "errors"

// Sentinel errors. Gateway errors wrap one of these with %w and carry the
// gateway's message; branch on them with errors.Is.
var (
	// ErrDeclined means the issuer declined the charge.
	ErrDeclined = errors.New("payment: card declined")
	// ErrInsufficientFunds means a prepaid card's balance is too low.
	ErrInsufficientFunds = errors.New("payment: insufficient funds")
	// ErrCardExpired means the card has expired.
	ErrCardExpired = errors.New("payment: card expired")
	// ErrBlacklisted means the card is blacklisted (bad debt, stolen, cloned).
	ErrBlacklisted = errors.New("payment: card blacklisted")
	// ErrDebitNotSupported means the card is a debit card, which cannot be
	// charged remotely.
	ErrDebitNotSupported = errors.New("payment: debit cards cannot be charged remotely")
	// ErrUnavailable means the gateway could not be reached or did not record
	// the charge; retrying later with the same idempotency key is safe.
	ErrUnavailable = errors.New("payment: gateway unavailable")
	// ErrOutcomeUnknown means the gateway may or may not have charged: the
	// POST got no usable answer and the lookup failed too. It always comes
	// wrapped with ErrUnavailable (retrying with the same key is safe), but
	// it must never be reported as "nothing was charged".
	ErrOutcomeUnknown = errors.New("payment: charge outcome unknown")
	// ErrNotFound means the gateway has no record of the idempotency key.
	ErrNotFound = errors.New("payment: charge not found")
	// ErrIdempotencyMismatch means the key was already used with a different
	// request body.
	ErrIdempotencyMismatch = errors.New("payment: idempotency key reused with a different request")
	// ErrUnauthorized means the gateway refused the API key.
	ErrUnauthorized = errors.New("payment: gateway refused the API key")
	// ErrInvalidRequest means the gateway rejected the request as malformed.
	ErrInvalidRequest = errors.New("payment: invalid charge request")
)

// Retryable reports whether the same charge may be retried later with the
// same idempotency key. Only ErrUnavailable (possibly wrapped) is retryable;
// declines are final.
func Retryable(err error) bool {
	return errors.Is(err, ErrUnavailable)
}

// OutcomeUnknown reports whether err leaves open whether the card was
// charged: it must be settled by looking the key up, never guessed.
func OutcomeUnknown(err error) bool {
	return errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrIdempotencyMismatch)
}

// IsDecline reports whether err is one of the card decline classes
// (declined, insufficient funds, expired, blacklisted, debit not supported).
func IsDecline(err error) bool {
	return errors.Is(err, ErrDeclined) || errors.Is(err, ErrInsufficientFunds) ||
		errors.Is(err, ErrCardExpired) || errors.Is(err, ErrBlacklisted) ||
		errors.Is(err, ErrDebitNotSupported)
}

// Error codes of the gateway protocol, as found in {"error":{"code":…}}.
const (
	CodeDeclined            = "declined"
	CodeInsufficientFunds   = "insufficient_funds"
	CodeExpiredCard         = "expired_card"
	CodeBlacklisted         = "blacklisted"
	CodeDebitNotSupported   = "debit_not_supported"
	CodeIdempotencyMismatch = "idempotency_mismatch"
	CodeUnavailable         = "unavailable"
	CodeNotFound            = "not_found"
	CodeUnauthorized        = "unauthorized"
	CodeInvalidRequest      = "invalid_request"
)

// errorForCode maps a gateway error code to its sentinel.
func errorForCode(code string) error {
	switch code {
	case CodeDeclined:
		return ErrDeclined
	case CodeInsufficientFunds:
		return ErrInsufficientFunds
	case CodeExpiredCard:
		return ErrCardExpired
	case CodeBlacklisted:
		return ErrBlacklisted
	case CodeDebitNotSupported:
		return ErrDebitNotSupported
	case CodeIdempotencyMismatch:
		return ErrIdempotencyMismatch
	case CodeUnavailable:
		return ErrUnavailable
	case CodeNotFound:
		return ErrNotFound
	case CodeUnauthorized:
		return ErrUnauthorized
	case CodeInvalidRequest:
		return ErrInvalidRequest
	default:
		return nil
	}
}
