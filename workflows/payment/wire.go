package payment

import "time"

// chargeBody is the JSON body of POST /v1/charges.
type chargeBody struct {
	IdempotencyKey string `json:"idempotency_key"`
	CardToken      string `json:"card_token"`
	AmountMinor    int64  `json:"amount_minor"`
	Currency       string `json:"currency"`
	Description    string `json:"description"`
}

// chargeJSON is the JSON of a successful charge.
type chargeJSON struct {
	ID             string    `json:"id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Status         string    `json:"status"`
	AmountMinor    int64     `json:"amount_minor"`
	Currency       string    `json:"currency"`
	CreatedAt      time.Time `json:"created_at"`
}

// errorJSON is the JSON of every gateway error.
type errorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c chargeJSON) charge() Charge {
	return Charge(c)
}
