package sim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// CardKind is the kind of a simulated card.
type CardKind string

// Card kinds. Debit cards cannot be charged remotely.
const (
	CardCredit  CardKind = "credit"
	CardPrepaid CardKind = "prepaid"
	CardDebit   CardKind = "debit"
)

// Card is a card registered with the simulated payment gateway.
type Card struct {
	// Token identifies the card in charge requests ("tok_…").
	Token string `json:"token"`
	// Kind is credit, prepaid or debit.
	Kind CardKind `json:"kind"`
	// Last4 are the last four digits of the card number.
	Last4 string `json:"last4"`
	// BalanceMinor is a prepaid card's balance; charges reduce it.
	BalanceMinor int64 `json:"balance_minor"`
	// Expired makes charges fail with expired_card.
	Expired bool `json:"expired"`
	// Blacklisted makes charges fail with blacklisted.
	Blacklisted bool `json:"blacklisted"`
	// DeclineNext declines the next n new charges with declined.
	DeclineNext int `json:"decline_next"`
	// UnavailableNext answers the next n new charges with 503 without
	// recording them.
	UnavailableNext int `json:"unavailable_next"`
	// SlowNext records the next charges but answers them late.
	SlowNext SlowSpec `json:"slow_next"`
	// RecordsUnavailableNext answers the next n requests that read a
	// recorded charge of this card (a lookup, or a POST repeating its key)
	// with 503: the charge was taken but the gateway cannot say so.
	RecordsUnavailableNext int `json:"records_unavailable_next"`
}

// SlowSpec delays the answer to the next Count charges by DelayMS.
type SlowSpec struct {
	Count   int `json:"count"`
	DelayMS int `json:"delay_ms"`
}

// CardPatch changes some fields of a card; nil fields are left alone.
type CardPatch struct {
	Kind            *CardKind `json:"kind"`
	Last4           *string   `json:"last4"`
	BalanceMinor    *int64    `json:"balance_minor"`
	Expired         *bool     `json:"expired"`
	Blacklisted     *bool     `json:"blacklisted"`
	DeclineNext     *int      `json:"decline_next"`
	UnavailableNext *int      `json:"unavailable_next"`
	SlowNext        *SlowSpec `json:"slow_next"`
	// RecordsUnavailableNext sets Card.RecordsUnavailableNext.
	RecordsUnavailableNext *int `json:"records_unavailable_next"`
}

// ChargeRecord is one charge attempt the gateway recorded under an
// idempotency key: a success or a decline.
type ChargeRecord struct {
	ID             string    `json:"id,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	CardToken      string    `json:"card_token"`
	AmountMinor    int64     `json:"amount_minor"`
	Currency       string    `json:"currency"`
	Description    string    `json:"description"`
	Status         string    `json:"status"`
	Code           string    `json:"code,omitempty"`
	Message        string    `json:"message,omitempty"`
	HTTPStatus     int       `json:"http_status"`
	CreatedAt      time.Time `json:"created_at"`
}

// Charge record statuses.
const (
	chargeSucceeded = "succeeded"
	chargeFailed    = "failed"
)

// Gateway is a simulated payment gateway holding cards in memory and
// speaking the payment protocol of ppprenew/workflows/payment under /pay.
type Gateway struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	cards   map[string]*Card
	byKey   map[string]*ChargeRecord
	charges []*ChargeRecord
	// received counts every charge request, duplicates included.
	received ChargeRequests
}

// NewGateway returns an empty simulated gateway. It uses cfg.GatewayAPIKey,
// cfg.Clock and cfg.Logger.
func NewGateway(cfg Config) *Gateway {
	cfg = cfg.withDefaults()
	return &Gateway{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "sim.gateway"),
		cards:    map[string]*Card{},
		byKey:    map[string]*ChargeRecord{},
		received: ChargeRequests{ByKey: map[string]int{}, ByCard: map[string]int{}},
	}
}

// Register mounts /pay/v1/charges (the gateway protocol, base URL
// <sim>/pay) and the control routes /sim/v1/cards and /sim/v1/charges.
func (g *Gateway) Register(e *echo.Echo) {
	e.POST("/pay/v1/charges", g.handleCharge)
	e.GET("/pay/v1/charges/:key", g.handleLookup)
	g.registerControl(e)
}

var last4Pattern = regexp.MustCompile(`^[0-9]{4}$`)

func (k CardKind) valid() bool {
	return k == CardCredit || k == CardPrepaid || k == CardDebit
}

// validateCard checks a card's fields.
func validateCard(c Card) error {
	switch {
	case !c.Kind.valid():
		return fmt.Errorf("sim: card kind must be credit, prepaid or debit, not %q", c.Kind)
	case !last4Pattern.MatchString(c.Last4):
		return fmt.Errorf("sim: last4 must be four digits, not %q", c.Last4)
	case c.BalanceMinor < 0 || c.DeclineNext < 0 || c.UnavailableNext < 0 || c.SlowNext.Count < 0 || c.SlowNext.DelayMS < 0 || c.RecordsUnavailableNext < 0:
		return fmt.Errorf("sim: card counters and balance must not be negative")
	}
	return nil
}

// AddCard registers a card. Kind defaults to credit and Last4 to "4242"; a
// token is generated unless one is given.
func (g *Gateway) AddCard(c Card) (Card, error) {
	if c.Kind == "" {
		c.Kind = CardCredit
	}
	if c.Last4 == "" {
		c.Last4 = "4242"
	}
	if err := validateCard(c); err != nil {
		return Card{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.Token == "" {
		c.Token = newToken("tok_")
	} else if _, dup := g.cards[c.Token]; dup {
		return Card{}, fmt.Errorf("sim: card token %s already exists", maskSecret(c.Token))
	}
	cp := c
	g.cards[c.Token] = &cp
	g.log.Info("sim card added", "card", maskSecret(c.Token), "kind", string(c.Kind), "last4", c.Last4)
	return c, nil
}

// Card returns a card by token.
func (g *Gateway) Card(token string) (Card, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.cards[token]
	if !ok {
		return Card{}, fmt.Errorf("%w: card", ErrNotFound)
	}
	return *c, nil
}

// Cards returns every card, by token.
func (g *Gateway) Cards() []Card {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Card, 0, len(g.cards))
	for _, c := range g.cards {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Token < out[j].Token })
	return out
}

// UpdateCard applies a patch to a card.
func (g *Gateway) UpdateCard(token string, p CardPatch) (Card, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.cards[token]
	if !ok {
		return Card{}, fmt.Errorf("%w: card", ErrNotFound)
	}
	n := *c
	if p.Kind != nil {
		n.Kind = *p.Kind
	}
	if p.Last4 != nil {
		n.Last4 = *p.Last4
	}
	if p.BalanceMinor != nil {
		n.BalanceMinor = *p.BalanceMinor
	}
	if p.Expired != nil {
		n.Expired = *p.Expired
	}
	if p.Blacklisted != nil {
		n.Blacklisted = *p.Blacklisted
	}
	if p.DeclineNext != nil {
		n.DeclineNext = *p.DeclineNext
	}
	if p.UnavailableNext != nil {
		n.UnavailableNext = *p.UnavailableNext
	}
	if p.SlowNext != nil {
		n.SlowNext = *p.SlowNext
	}
	if p.RecordsUnavailableNext != nil {
		n.RecordsUnavailableNext = *p.RecordsUnavailableNext
	}
	if err := validateCard(n); err != nil {
		return Card{}, err
	}
	*c = n
	g.log.Info("sim card updated", "card", maskSecret(token))
	return n, nil
}

// Charges returns every recorded charge (successes and declines), oldest
// first.
func (g *Gateway) Charges() []ChargeRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]ChargeRecord, 0, len(g.charges))
	for _, r := range g.charges {
		out = append(out, *r)
	}
	return out
}

// newToken returns prefix plus 24 random hex digits.
func newToken(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
