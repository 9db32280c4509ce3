package sim

import (
	"net/url"
	"strconv"
	"strings"
)

// pageBounds selects one page of n items listed newest first: after the
// item with sequence afterSeq when the request carried a next-page token
// (afterSeq >= 0), the page just before the item with sequence beforeSeq
// for a previous-page token (beforeSeq >= 0), else by page number.
func pageBounds(n, page, pageSize int, afterSeq, beforeSeq int64, seqAt func(i int) int64) (start, end int) {
	if beforeSeq >= 0 {
		end = n
		for i := range n {
			if seqAt(i) <= beforeSeq {
				end = i
				break
			}
		}
		return max(0, end-pageSize), end
	}
	start = min(page*pageSize, n)
	if afterSeq >= 0 {
		start = n
		for i := range n {
			if seqAt(i) < afterSeq {
				start = i
				break
			}
		}
	}
	return start, min(start+pageSize, n)
}

// pageURI is the URI of one page of a Twilio list resource, keeping the
// request's filters.
func listPageURI(path string, filters url.Values, pageSize, page int, token string) string {
	v := url.Values{}
	for k := range filters {
		v.Set(k, filters.Get(k))
	}
	v.Set("PageSize", strconv.Itoa(pageSize))
	v.Set("Page", strconv.Itoa(page))
	if token != "" {
		v.Set("PageToken", token)
	}
	return path + "?" + v.Encode()
}

// pageTokens reads a Twilio PageToken: "PA" + the sid of the last item of
// the page before (next page) or "PB" + the sid of the first item of the
// page after (previous page).
func pageTokens(token string, seqOf func(sid string) (int64, bool)) (afterSeq, beforeSeq int64) {
	afterSeq, beforeSeq = -1, -1
	if sid, ok := strings.CutPrefix(token, "PA"); ok {
		if s, found := seqOf(sid); found {
			afterSeq = s
		}
	}
	if sid, ok := strings.CutPrefix(token, "PB"); ok {
		if s, found := seqOf(sid); found {
			beforeSeq = s
		}
	}
	return afterSeq, beforeSeq
}
