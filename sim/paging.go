package sim

import (
	"net/url"
	"strconv"
)

// pageBounds selects one page of n items listed newest first: after the
// item with sequence afterSeq when the request carried a PageToken
// (afterSeq >= 0), else by page number.
func pageBounds(n, page, pageSize int, afterSeq int64, seqAt func(i int) int64) (start, end int) {
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
