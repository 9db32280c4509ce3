package sim

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// twilioCallPage is Twilio's paging envelope for the Calls list, decoded by
// twilio-go into openapi.ListCallResponse.
type twilioCallPage struct {
	End             int          `json:"end"`
	FirstPageURI    string       `json:"first_page_uri"`
	NextPageURI     *string      `json:"next_page_uri"`
	Page            int          `json:"page"`
	PageSize        int          `json:"page_size"`
	PreviousPageURI *string      `json:"previous_page_uri"`
	Start           int          `json:"start"`
	URI             string       `json:"uri"`
	Calls           []twilioCall `json:"calls"`
}

// callTimeFilter is a StartTime or EndTime filter of the Calls list.
type callTimeFilter struct {
	end bool // EndTime rather than StartTime
	f   dateFilter
}

// matchTime applies a date filter to an instant, as dateFilter.match does
// for messages.
func (f dateFilter) matchTime(t time.Time) bool {
	t = t.UTC()
	at := f.at
	if f.dayOnly {
		day := func(x time.Time) time.Time { return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC) }
		t, at = day(t), day(at)
	}
	switch f.op {
	case '<':
		return !t.After(at)
	case '>':
		return !t.Before(at)
	default:
		return t.Equal(at)
	}
}

// match applies the filter to a call; a call without that time never
// matches.
func (f callTimeFilter) match(c Call) bool {
	t := c.StartTime
	if f.end {
		t = c.EndTime
	}
	return t != nil && f.f.matchTime(*t)
}

// handleListCalls is GET /2010-04-01/Accounts/{AccountSid}/Calls.json with
// To, From, Status, StartTime and EndTime (=, <, >) filters, newest first,
// paged with PageSize, Page and PageToken.
func (c *Carrier) handleListCalls(ec echo.Context) error {
	q := ec.Request().URL.Query()
	filters := url.Values{}
	var times []callTimeFilter
	for _, k := range []string{"To", "From", "Status", "StartTime", "StartTime<", "StartTime>", "EndTime", "EndTime<", "EndTime>"} {
		v := q.Get(k)
		if v == "" {
			continue
		}
		filters.Set(k, v)
		name, op := k, byte('=')
		if last := k[len(k)-1]; last == '<' || last == '>' {
			name, op = k[:len(k)-1], last
		}
		if name == "StartTime" || name == "EndTime" {
			f, ok := parseDateFilter(op, v)
			if !ok {
				return badRequest(ec, codeInvalidParameter, "Invalid "+k+": "+v)
			}
			times = append(times, callTimeFilter{end: name == "EndTime", f: f})
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
	page = max(page, 0)
	token := q.Get("PageToken")

	vs := c.voice()
	vs.mu.Lock()
	afterSeq, beforeSeq := pageTokens(token, func(sid string) (int64, bool) {
		r, found := vs.calls[sid]
		if !found {
			return 0, false
		}
		return r.seq, true
	})
	type item struct {
		call Call
		seq  int64
	}
	var matched []item
	for i := len(vs.order) - 1; i >= 0; i-- {
		r := vs.order[i]
		if (filters.Get("To") != "" && r.call.To != filters.Get("To")) ||
			(filters.Get("From") != "" && r.call.From != filters.Get("From")) ||
			(filters.Get("Status") != "" && r.call.Status != filters.Get("Status")) {
			continue
		}
		ok := true
		for _, f := range times {
			ok = ok && f.match(r.call)
		}
		if ok {
			matched = append(matched, item{r.call.clone(), r.seq})
		}
	}
	vs.mu.Unlock()

	start, end := pageBounds(len(matched), page, pageSize, afterSeq, beforeSeq, func(i int) int64 { return matched[i].seq })
	items := matched[start:end]

	path := "/" + twilioAPIVersion + "/Accounts/" + c.cfg.AccountSID + "/Calls.json"
	pageURI := func(p int, tok string) string { return listPageURI(path, filters, pageSize, p, tok) }
	out := twilioCallPage{
		FirstPageURI: pageURI(0, ""),
		Page:         page,
		PageSize:     pageSize,
		Start:        page * pageSize,
		URI:          pageURI(page, token),
		Calls:        make([]twilioCall, 0, len(items)),
	}
	out.End = out.Start + max(len(items)-1, 0)
	for _, it := range items {
		out.Calls = append(out.Calls, renderCall(it.call))
	}
	if end < len(matched) && len(items) > 0 {
		next := pageURI(page+1, "PA"+items[len(items)-1].call.Sid)
		out.NextPageURI = &next
	}
	if page > 0 && len(items) > 0 {
		prev := pageURI(page-1, "PB"+items[0].call.Sid)
		out.PreviousPageURI = &prev
	}
	return ec.JSON(http.StatusOK, out)
}
