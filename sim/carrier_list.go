package sim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// twilioMessagePage is Twilio's paging envelope for the Messages list,
// decoded by twilio-go into openapi.ListMessageResponse.
type twilioMessagePage struct {
	End             int             `json:"end"`
	FirstPageURI    string          `json:"first_page_uri"`
	NextPageURI     *string         `json:"next_page_uri"`
	Page            int             `json:"page"`
	PageSize        int             `json:"page_size"`
	PreviousPageURI *string         `json:"previous_page_uri"`
	Start           int             `json:"start"`
	URI             string          `json:"uri"`
	Messages        []twilioMessage `json:"messages"`
}

// dateFilter is one DateSent filter: op is "=", "<" (on or before) or ">"
// (on or after). dayOnly compares calendar days (GMT), as Twilio does for
// YYYY-MM-DD values; a full timestamp compares instants.
type dateFilter struct {
	op      byte
	at      time.Time
	dayOnly bool
}

// parseDateFilter reads a YYYY-MM-DD or RFC 3339 value.
func parseDateFilter(op byte, v string) (dateFilter, bool) {
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return dateFilter{op: op, at: t, dayOnly: true}, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return dateFilter{op: op, at: t.UTC(), dayOnly: op == '='}, true
	}
	return dateFilter{}, false
}

// match applies the filter to a message. A message not yet sent is matched
// on its creation time, so a queued message can be found right after an
// ambiguous create.
func (f dateFilter) match(m *Message) bool {
	t := m.DateCreated
	if m.DateSent != nil {
		t = *m.DateSent
	}
	t = t.UTC()
	if f.dayOnly {
		day := func(x time.Time) time.Time { return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC) }
		t, f.at = day(t), day(f.at)
	}
	switch f.op {
	case '<':
		return !t.After(f.at)
	case '>':
		return !t.Before(f.at)
	default:
		return t.Equal(f.at)
	}
}

// handleListMessages is GET /2010-04-01/Accounts/{AccountSid}/Messages.json
// with To, From, DateSent, DateSent< and DateSent> filters, newest first,
// paged with PageSize, Page and PageToken.
func (c *Carrier) handleListMessages(ec echo.Context) error {
	q := ec.Request().URL.Query()
	filters := url.Values{}
	var dates []dateFilter
	for _, k := range []string{"To", "From", "DateSent", "DateSent<", "DateSent>"} {
		v := q.Get(k)
		if v == "" {
			continue
		}
		filters.Set(k, v)
		if strings.HasPrefix(k, "DateSent") {
			op := byte('=')
			if len(k) > len("DateSent") {
				op = k[len(k)-1]
			}
			f, ok := parseDateFilter(op, v)
			if !ok {
				return badRequest(ec, codeInvalidParameter, "Invalid "+k+": "+v)
			}
			dates = append(dates, f)
		}
	}
	pageSize := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badRequest(ec, codeInvalidParameter, "PageSize must be between 1 and 1000")
		}
		pageSize = n
	}
	page, _ := strconv.Atoi(q.Get("Page"))
	if page < 0 {
		page = 0
	}
	token := q.Get("PageToken")

	c.mu.Lock()
	var matched []Message
	afterSeq, beforeSeq := pageTokens(token, func(sid string) (int64, bool) {
		m, found := c.msgs[sid]
		if !found {
			return 0, false
		}
		return m.seq, true
	})
	for i := len(c.order) - 1; i >= 0; i-- {
		m := c.order[i]
		if m.deleted {
			continue
		}
		if (filters.Get("To") != "" && m.To != filters.Get("To")) ||
			(filters.Get("From") != "" && m.From != filters.Get("From")) {
			continue
		}
		ok := true
		for _, f := range dates {
			ok = ok && f.match(m)
		}
		if ok {
			matched = append(matched, m.clone())
		}
	}
	c.mu.Unlock()

	start, end := pageBounds(len(matched), page, pageSize, afterSeq, beforeSeq, func(i int) int64 { return matched[i].seq })
	items := matched[start:end]

	path := "/" + twilioAPIVersion + "/Accounts/" + c.cfg.AccountSID + "/Messages.json"
	pageURI := func(p int, tok string) string { return listPageURI(path, filters, pageSize, p, tok) }
	out := twilioMessagePage{
		FirstPageURI: pageURI(0, ""),
		Page:         page,
		PageSize:     pageSize,
		Start:        page * pageSize,
		URI:          pageURI(page, token),
		Messages:     make([]twilioMessage, 0, len(items)),
	}
	out.End = out.Start + max(len(items)-1, 0)
	for _, m := range items {
		out.Messages = append(out.Messages, render(m))
	}
	if end < len(matched) && len(items) > 0 {
		next := pageURI(page+1, "PA"+items[len(items)-1].Sid)
		out.NextPageURI = &next
	}
	if page > 0 && len(items) > 0 {
		prev := pageURI(page-1, "PB"+items[0].Sid)
		out.PreviousPageURI = &prev
	}
	return ec.JSON(http.StatusOK, out)
}
