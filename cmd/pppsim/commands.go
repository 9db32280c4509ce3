package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Wire shapes of the simulator and admin API (only the fields shown).
type (
	card struct {
		Token        string `json:"token"`
		Kind         string `json:"kind"`
		Last4        string `json:"last4"`
		BalanceMinor int64  `json:"balance_minor"`
		Expired      bool   `json:"expired"`
		Blacklisted  bool   `json:"blacklisted"`
	}
	user struct {
		ID        string `json:"id"`
		Phone     string `json:"phone"`
		Language  string `json:"language"`
		CardToken string `json:"card_token"`
		CardLast4 string `json:"card_last4"`
		CardKind  string `json:"card_kind"`
	}
	phoneMessage struct {
		Sid         string    `json:"sid"`
		From        string    `json:"from"`
		Body        string    `json:"body"`
		Status      string    `json:"status"`
		ErrorCode   int       `json:"error_code"`
		NumSegments int       `json:"num_segments"`
		Encoding    string    `json:"encoding"`
		DateCreated time.Time `json:"date_created"`
	}
	inboundResult struct {
		MessageSid    string `json:"message_sid"`
		WebhookStatus int    `json:"webhook_status"`
		Deliveries    int    `json:"deliveries"`
		WebhookError  string `json:"webhook_error"`
	}
	charge struct {
		IdempotencyKey string    `json:"idempotency_key"`
		CardToken      string    `json:"card_token"`
		AmountMinor    int64     `json:"amount_minor"`
		Currency       string    `json:"currency"`
		Status         string    `json:"status"`
		Code           string    `json:"code"`
		CreatedAt      time.Time `json:"created_at"`
	}
	historyEntry struct {
		At      time.Time `json:"at"`
		Version int64     `json:"version"`
		Input   string    `json:"input"`
		From    string    `json:"from"`
		To      string    `json:"to"`
		Effects []string  `json:"effects"`
	}
	convState struct {
		ID        string    `json:"id"`
		Version   int64     `json:"version"`
		Phase     string    `json:"phase"`
		Phone     string    `json:"phone"`
		MeterID   string    `json:"meter_id"`
		Bay       string    `json:"bay"`
		PaidUntil time.Time `json:"paid_until"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	conversation struct {
		State   convState      `json:"state"`
		History []historyEntry `json:"history"`
	}
)

// print writes v as JSON or via the text function.
func (c *cli) print(v any, text func()) error {
	if c.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text()
	return nil
}

func (c *cli) printf(format string, a ...any) { fmt.Fprintf(c.out, format, a...) }

func parseAmount(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q has more than two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 {
		return 0, fmt.Errorf("amount %q is not like 12.50", s)
	}
	return w*100 + f, nil
}

func money(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

func cmdUserAdd(ctx context.Context, c *cli, args []string) error {
	var phone, lang, kind, last4, balance, channel, pin string
	if err := c.flagsOnly("user add", args, func(fs *flag.FlagSet) {
		fs.StringVar(&channel, "channel", "", "")
		fs.StringVar(&pin, "pin", "", "")
		fs.StringVar(&phone, "phone", "", "")
		fs.StringVar(&lang, "lang", "en", "")
		fs.StringVar(&kind, "card", "credit", "")
		fs.StringVar(&last4, "last4", "4242", "")
		fs.StringVar(&balance, "balance", "100.00", "")
	}); err != nil {
		return err
	}
	if phone == "" {
		return fmt.Errorf("user add: --phone is required: %w", errUsage)
	}
	bal, err := parseAmount(balance)
	if err != nil {
		return err
	}
	var cd card
	if err := c.api.simctl(ctx, "POST", "/cards", map[string]any{"kind": kind, "last4": last4, "balance_minor": bal}, &cd); err != nil {
		return fmt.Errorf("create card at the simulated gateway: %w", err)
	}
	var u user
	if err := c.api.admin(ctx, "POST", "/users", map[string]any{"phone": phone, "language": lang, "card_token": cd.Token, "card_last4": cd.Last4, "card_kind": cd.Kind, "channel": channel, "pin": pin}, &u); err != nil {
		return fmt.Errorf("register user: %w", err)
	}
	return c.print(map[string]any{"user": u, "card": cd}, func() {
		reached := "the operator's channel order"
		if channel != "" {
			reached = channel + " first"
		}
		c.printf("registered user %s  phone %s  language %s  reached by %s\n", u.ID, u.Phone, u.Language, reached)
		c.printf("  card %s ending %s (token %s, balance %s)\n", cd.Kind, cd.Last4, cd.Token, money(cd.BalanceMinor))
	})
}

func (c *cli) userByPhone(ctx context.Context, phone string) (user, error) {
	var u user
	err := c.api.admin(ctx, "GET", "/users?phone="+url.QueryEscape(phone), nil, &u)
	return u, err
}

func cmdUserShow(ctx context.Context, c *cli, args []string) error {
	var phone string
	if err := c.flagsOnly("user show", args, func(fs *flag.FlagSet) { fs.StringVar(&phone, "phone", "", "") }); err != nil {
		return err
	}
	u, err := c.userByPhone(ctx, phone)
	if err != nil {
		return err
	}
	return c.print(u, func() {
		c.printf("user %s  phone %s  language %s  card %s ending %s\n", u.ID, u.Phone, u.Language, u.CardKind, u.CardLast4)
	})
}

func expandBays(spec string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if a, b, ok := strings.Cut(part, "-"); ok {
			lo, err1 := strconv.Atoi(a)
			hi, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil || hi < lo || hi-lo > 999 {
				return nil, fmt.Errorf("bays %q: use a list like 1-20 or 1,2,7", spec)
			}
			for i := lo; i <= hi; i++ {
				out = append(out, strconv.Itoa(i))
			}
		} else if part != "" {
			out = append(out, part)
		}
	}
	return out, nil
}

func cmdMeterAdd(ctx context.Context, c *cli, args []string) error {
	var id, simNumber, zone, location, bays string
	var online bool
	if err := c.flagsOnly("meter add", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&online, "online", false, "")
		fs.StringVar(&id, "id", "", "")
		fs.StringVar(&simNumber, "sim-number", "", "")
		fs.StringVar(&zone, "zone", "", "")
		fs.StringVar(&location, "location", "Queen's Road Central", "")
		fs.StringVar(&bays, "bays", "1-20", "")
	}); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("meter add: --id is required: %w", errUsage)
	}
	if simNumber == "" {
		simNumber = simNumberFor(id)
	}
	list, err := expandBays(bays)
	if err != nil {
		return err
	}
	var snap meterSnapshot
	if err := c.api.simctl(ctx, "POST", "/meters", map[string]any{"id": id, "sim_number": simNumber, "zone": zone, "location": location, "bays": list, "online": online}, &snap); err != nil {
		return err
	}
	return c.print(snap, func() {
		state := "asleep: it wakes when the platform calls its SIM"
		if online {
			state = "online: it polls the platform"
		}
		c.printf("meter %s registered with the server (%d bays, SIM %s), %s\n", id, len(list), simNumber, state)
	})
}

// simNumberFor is the SIM number meter add gives a meter without
// --sim-number: derived from the id, so each meter has its own and the
// platform's wake call reaches that meter. Two ids may still share one (one
// in ten million); the server then answers 409 and --sim-number settles it.
func simNumberFor(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("+8526%07d", h.Sum32()%10_000_000)
}

type meterSnapshot struct {
	ID       string `json:"id"`
	Location string `json:"location"`
	Zone     string `json:"zone"`
	Bays     []struct {
		Bay       string    `json:"bay"`
		PaidUntil time.Time `json:"paid_until"`
		Card      string    `json:"card"`
	} `json:"bays"`
	Applied      []string  `json:"applied"`
	LastExchange time.Time `json:"last_exchange"`
	LastError    string    `json:"last_error"`
	Events       []struct {
		At   time.Time `json:"at"`
		What string    `json:"what"`
	} `json:"events"`
}

// displayLoc is the time zone of printed times.
var displayLoc = time.Local

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(displayLoc).Format("15:04:05")
}

func cmdMeterShow(ctx context.Context, c *cli, args []string) error {
	pos, err := c.flags("meter show", args, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("meter show METER: %w", errUsage)
	}
	var m meterSnapshot
	if err := c.api.simctl(ctx, "GET", "/meters/"+url.PathEscape(pos[0]), nil, &m); err != nil {
		return err
	}
	return c.print(m, func() {
		c.printf("meter %s  %s  zone %q  last exchange %s\n", m.ID, m.Location, m.Zone, clock(m.LastExchange))
		if m.LastError != "" {
			c.printf("  last error: %s\n", m.LastError)
		}
		for _, b := range m.Bays {
			if !b.PaidUntil.IsZero() {
				c.printf("  bay %-4s paid until %s  %s\n", b.Bay, clock(b.PaidUntil), b.Card)
			}
		}
		if len(m.Events) > 0 {
			c.printf("  events:\n")
			for _, e := range m.Events {
				c.printf("    %s  %s\n", clock(e.At), e.What)
			}
		}
	})
}

func cmdMeterList(ctx context.Context, c *cli, args []string) error {
	if err := c.flagsOnly("meter list", args, nil); err != nil {
		return err
	}
	var list struct {
		Meters []meterSnapshot `json:"meters"`
	}
	if err := c.api.simctl(ctx, "GET", "/meters", nil, &list); err != nil {
		return err
	}
	ms := list.Meters
	return c.print(ms, func() {
		for _, m := range ms {
			c.printf("%-12s %-28s zone %-10q %d bays  last exchange %s\n", m.ID, m.Location, m.Zone, len(m.Bays), clock(m.LastExchange))
		}
	})
}

func cmdTap(ctx context.Context, c *cli, args []string) error {
	var meterID, bay, phone, token, amount string
	var minutes int
	var dur time.Duration
	if err := c.flagsOnly("tap", args, func(fs *flag.FlagSet) {
		fs.StringVar(&meterID, "meter", "", "")
		fs.StringVar(&bay, "bay", "", "")
		fs.StringVar(&phone, "phone", "", "")
		fs.StringVar(&token, "card", "", "")
		fs.IntVar(&minutes, "minutes", 30, "")
		fs.DurationVar(&dur, "for", 0, "")
		fs.StringVar(&amount, "amount", "10.00", "")
	}); err != nil {
		return err
	}
	if meterID == "" || bay == "" || (phone == "" && token == "") {
		return fmt.Errorf("tap: --meter, --bay and --phone or --card are required")
	}
	if token == "" {
		u, err := c.userByPhone(ctx, phone)
		if err != nil {
			return fmt.Errorf("find the card of %s: %w", phone, err)
		}
		// The admin API masks tokens; the simulated gateway knows the card.
		var cards []card
		if err := c.api.simctl(ctx, "GET", "/cards", nil, &cards); err != nil {
			return err
		}
		for _, cd := range cards {
			if strings.HasSuffix(cd.Token, strings.TrimPrefix(u.CardToken, "****")) && cd.Last4 == u.CardLast4 {
				token = cd.Token
			}
		}
		if token == "" {
			return fmt.Errorf("the card of %s is not known to the simulated gateway; use --card", phone)
		}
	}
	amt, err := parseAmount(amount)
	if err != nil {
		return err
	}
	body := map[string]any{"card_token": token, "minutes": minutes, "amount_minor": amt}
	if dur > 0 {
		body["seconds"] = int(dur / time.Second)
	}
	var res struct {
		Record struct {
			Seq       uint64    `json:"seq"`
			TxnID     string    `json:"txn_id"`
			PaidUntil time.Time `json:"paid_until"`
		} `json:"record"`
	}
	if err := c.api.simctl(ctx, "POST", "/meters/"+url.PathEscape(meterID)+"/bays/"+url.PathEscape(bay)+"/tap", body, &res); err != nil {
		return err
	}
	rec := res.Record
	return c.print(res, func() {
		c.printf("tapped card at meter %s bay %s: transaction %s, paid until %s (uploaded to the server)\n", meterID, bay, rec.TxnID, clock(rec.PaidUntil))
	})
}

func cmdSMSSend(ctx context.Context, c *cli, args []string) error {
	var from, to string
	var twice bool
	pos, err := c.flags("sms send", args, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "")
		fs.StringVar(&to, "to", "", "")
		fs.BoolVar(&twice, "twice", false, "")
	})
	if err != nil {
		return err
	}
	if from == "" || len(pos) == 0 {
		return fmt.Errorf("sms send --from PHONE TEXT: %w", errUsage)
	}
	var res inboundResult
	body := strings.Join(pos, " ")
	if err := c.api.simctl(ctx, "POST", "/phones/"+url.PathEscape(from)+"/sms", map[string]any{"to": to, "body": body, "duplicate": twice}, &res); err != nil {
		return err
	}
	return c.print(res, func() {
		c.printf("%s -> platform: %q  (webhook answered %d, %d deliveries, %s)\n", from, body, res.WebhookStatus, res.Deliveries, res.MessageSid)
		if res.WebhookError != "" {
			c.printf("  webhook error: %s\n", res.WebhookError)
		}
	})
}

func (c *cli) inbox(ctx context.Context, phone, since string) ([]phoneMessage, error) {
	var msgs []phoneMessage
	path := "/phones/" + url.PathEscape(phone) + "/messages"
	if since != "" {
		path += "?since=" + url.QueryEscape(since)
	}
	err := c.api.simctl(ctx, "GET", path, nil, &msgs)
	return msgs, err
}

func (c *cli) printMessage(m phoneMessage) {
	status := m.Status
	if m.ErrorCode != 0 {
		status += fmt.Sprintf(" (error %d)", m.ErrorCode)
	}
	c.printf("%s  %s  [%s, %d %s segment(s)]\n    %s\n", clock(m.DateCreated), m.From, status, m.NumSegments, m.Encoding, m.Body)
}

func cmdSMSInbox(ctx context.Context, c *cli, args []string) error {
	var wait time.Duration
	var follow bool
	pos, err := c.flags("sms inbox", args, func(fs *flag.FlagSet) {
		fs.DurationVar(&wait, "wait", 0, "")
		fs.BoolVar(&follow, "follow", false, "")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("sms inbox PHONE: %w", errUsage)
	}
	msgs, err := c.inbox(ctx, pos[0], "")
	if err != nil {
		return err
	}
	if c.json && !follow {
		return c.print(msgs, nil)
	}
	for _, m := range msgs {
		c.printMessage(m)
	}
	if len(msgs) == 0 && wait == 0 && !follow {
		c.printf("(no messages for %s)\n", pos[0])
		return nil
	}
	last := ""
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].Sid
	}
	deadline := time.Now().Add(wait)
	for follow || (len(msgs) == 0 && time.Now().Before(deadline)) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
		more, err := c.inbox(ctx, pos[0], last)
		if err != nil {
			return err
		}
		for _, m := range more {
			c.printMessage(m)
			last = m.Sid
		}
		msgs = append(msgs, more...)
	}
	return nil
}

func cmdPhoneSet(ctx context.Context, c *cli, args []string) error {
	var behaviour string
	pos, err := c.flags("phone set", args, func(fs *flag.FlagSet) { fs.StringVar(&behaviour, "behaviour", "ok", "") })
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("phone set PHONE --behaviour B: %w", errUsage)
	}
	if err := c.api.simctl(ctx, "POST", "/phones/"+url.PathEscape(pos[0]), map[string]any{"behaviour": behaviour}, nil); err != nil {
		return err
	}
	c.printf("phone %s now behaves %s\n", pos[0], behaviour)
	return nil
}

func cmdCardShow(ctx context.Context, c *cli, args []string) error {
	pos, err := c.flags("card show", args, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("card show TOKEN: %w", errUsage)
	}
	var cd card
	if err := c.api.simctl(ctx, "GET", "/cards/"+url.PathEscape(pos[0]), nil, &cd); err != nil {
		return err
	}
	return c.print(cd, func() {
		c.printf("card %s  %s ending %s  balance %s  expired %t  blacklisted %t\n", cd.Token, cd.Kind, cd.Last4, money(cd.BalanceMinor), cd.Expired, cd.Blacklisted)
	})
}

func cmdCardSet(ctx context.Context, c *cli, args []string) error {
	var decline, unavailable, recordsDown, slowMS int
	var expired, blacklisted bool
	var balance string
	pos, err := c.flags("card set", args, func(fs *flag.FlagSet) {
		fs.IntVar(&decline, "decline-next", -1, "")
		fs.IntVar(&unavailable, "unavailable-next", -1, "")
		fs.IntVar(&recordsDown, "records-unavailable-next", -1, "")
		fs.IntVar(&slowMS, "slow-next-ms", -1, "")
		fs.BoolVar(&expired, "expired", false, "")
		fs.BoolVar(&blacklisted, "blacklisted", false, "")
		fs.StringVar(&balance, "balance", "", "")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("card set TOKEN [flags]: %w", errUsage)
	}
	patch := map[string]any{"expired": expired, "blacklisted": blacklisted}
	if decline >= 0 {
		patch["decline_next"] = decline
	}
	if unavailable >= 0 {
		patch["unavailable_next"] = unavailable
	}
	if recordsDown >= 0 {
		patch["records_unavailable_next"] = recordsDown
	}
	if slowMS >= 0 {
		patch["slow_next"] = map[string]int{"count": 1, "delay_ms": slowMS}
	}
	if balance != "" {
		b, err := parseAmount(balance)
		if err != nil {
			return err
		}
		patch["balance_minor"] = b
	}
	var cd card
	if err := c.api.simctl(ctx, "PATCH", "/cards/"+url.PathEscape(pos[0]), patch, &cd); err != nil {
		return err
	}
	return c.print(cd, func() { c.printf("card %s updated\n", cd.Token) })
}

func cmdCharges(ctx context.Context, c *cli, args []string) error {
	if err := c.flagsOnly("charges", args, nil); err != nil {
		return err
	}
	var chs []charge
	if err := c.api.simctl(ctx, "GET", "/charges", nil, &chs); err != nil {
		return err
	}
	return c.print(chs, func() {
		if len(chs) == 0 {
			c.printf("(no charges)\n")
		}
		for _, ch := range chs {
			c.printf("%s  %s %s  %-10s %s  key %s\n", clock(ch.CreatedAt), ch.Currency, money(ch.AmountMinor), ch.Status, ch.Code, ch.IdempotencyKey)
		}
	})
}

func cmdHistory(ctx context.Context, c *cli, args []string) error {
	var phone, conv string
	if err := c.flagsOnly("history", args, func(fs *flag.FlagSet) {
		fs.StringVar(&phone, "phone", "", "")
		fs.StringVar(&conv, "conv", "", "")
	}); err != nil {
		return err
	}
	if conv == "" {
		if phone == "" {
			return fmt.Errorf("history: --phone or --conv is required: %w", errUsage)
		}
		var list struct {
			Conversations []convState `json:"conversations"`
		}
		if err := c.api.admin(ctx, "GET", "/conversations?phone="+url.QueryEscape(phone), nil, &list); err != nil {
			return err
		}
		if len(list.Conversations) == 0 {
			return fmt.Errorf("no conversations for %s", phone)
		}
		conv = list.Conversations[0].ID
	}
	var cv conversation
	if err := c.api.admin(ctx, "GET", "/conversations/"+url.PathEscape(conv), nil, &cv); err != nil {
		return err
	}
	return c.print(cv, func() {
		s := cv.State
		c.printf("conversation %s  %s (v%d)  meter %s bay %s  paid until %s\n", s.ID, s.Phase, s.Version, s.MeterID, s.Bay, clock(s.PaidUntil))
		for _, h := range cv.History {
			from := h.From
			if from == "" {
				from = "start"
			}
			c.printf("  %s  %-60s %s -> %s\n", clock(h.At), h.Input, from, h.To)
			for _, e := range h.Effects {
				c.printf("              · %s\n", e)
			}
		}
	})
}

func cmdConversations(ctx context.Context, c *cli, args []string) error {
	if err := c.flagsOnly("conversations", args, nil); err != nil {
		return err
	}
	var list struct {
		Conversations []convState `json:"conversations"`
	}
	if err := c.api.admin(ctx, "GET", "/conversations", nil, &list); err != nil {
		return err
	}
	return c.print(list, func() {
		for _, s := range list.Conversations {
			c.printf("%s  %-10s v%-3d meter %s bay %-4s paid until %s  updated %s\n", s.ID, s.Phase, s.Version, s.MeterID, s.Bay, clock(s.PaidUntil), clock(s.UpdatedAt))
		}
	})
}

func cmdBlacklist(ctx context.Context, c *cli, args []string) error {
	var reason string
	pos, err := c.flags("blacklist", args, func(fs *flag.FlagSet) { fs.StringVar(&reason, "reason", "", "") })
	if err != nil {
		return err
	}
	if len(pos) != 2 || reason == "" {
		return fmt.Errorf("blacklist phone|card VALUE --reason R: %w", errUsage)
	}
	if err := c.api.admin(ctx, "POST", "/blacklist", map[string]any{"kind": pos[0], "value": pos[1], "reason": reason}, nil); err != nil {
		return err
	}
	c.printf("%s %s blacklisted: %s\n", pos[0], pos[1], reason)
	return nil
}

func cmdAlerts(ctx context.Context, c *cli, args []string) error {
	if err := c.flagsOnly("alerts", args, nil); err != nil {
		return err
	}
	var list struct {
		Alerts []struct {
			At      time.Time `json:"at"`
			Conv    string    `json:"conversation"`
			Code    string    `json:"code"`
			Message string    `json:"message"`
			Meter   string    `json:"meter"`
		} `json:"alerts"`
	}
	if err := c.api.admin(ctx, "GET", "/alerts", nil, &list); err != nil {
		return err
	}
	return c.print(list, func() {
		if len(list.Alerts) == 0 {
			c.printf("(no alerts)\n")
		}
		for _, a := range list.Alerts {
			about := a.Conv
			if about == "" {
				about = "meter " + a.Meter
			}
			c.printf("%s  %-18s %s  (%s)\n", clock(a.At), a.Code, a.Message, about)
		}
	})
}

func cmdFault(ctx context.Context, c *cli, args []string) error {
	var count, delay int
	pos, err := c.flags("fault", args, func(fs *flag.FlagSet) {
		fs.IntVar(&count, "count", 1, "")
		fs.IntVar(&delay, "delay-ms", 0, "")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("fault KIND: %w", errUsage)
	}
	if pos[0] == "clear" {
		return c.api.simctl(ctx, "DELETE", "/faults", nil, nil)
	}
	body := map[string]any{"kind": pos[0], "count": count}
	if delay > 0 {
		body["delay_ms"] = delay
	}
	if err := c.api.simctl(ctx, "POST", "/faults", body, nil); err != nil {
		return err
	}
	c.printf("fault %s armed for the next %d request(s)\n", pos[0], count)
	return nil
}
