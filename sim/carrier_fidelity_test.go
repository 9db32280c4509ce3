package sim

import (
	"encoding/json"
	"net/http"
	"testing"
)

// twilioRaw calls the simulated Twilio API with the account's credentials.
func (h *harness) twilioRaw(method, path string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, nil)
	req.SetBasicAuth(h.cfg.AccountSID, h.cfg.AuthToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// Every page after the first links back to the one before it, and that link
// gives the same messages as the first page.
func TestMessageListPagesLinkBack(t *testing.T) {
	h := newHarness(t)
	api := h.api()
	for _, body := range []string{"one", "two", "three", "four", "five"} {
		if _, err := h.send(api, testPlatform, "+85291234567", body, ""); err != nil {
			t.Fatal(err)
		}
	}
	base := "/2010-04-01/Accounts/" + h.cfg.AccountSID + "/Messages.json"
	_, first := h.twilioRaw("GET", base+"?PageSize=2")
	if first["previous_page_uri"] != nil {
		t.Fatalf("first page has previous_page_uri %v", first["previous_page_uri"])
	}
	next, _ := first["next_page_uri"].(string)
	_, second := h.twilioRaw("GET", next)
	prev, ok := second["previous_page_uri"].(string)
	if !ok || prev == "" {
		t.Fatalf("second page has no previous_page_uri: %v", second)
	}
	_, back := h.twilioRaw("GET", prev)
	sids := func(page map[string]any) []string {
		var out []string
		for _, m := range page["messages"].([]any) {
			out = append(out, m.(map[string]any)["sid"].(string))
		}
		return out
	}
	if got, want := sids(back), sids(first); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("previous page %v, want the first page %v", got, want)
	}
	if got := sids(second); len(got) != 2 || got[0] == sids(first)[1] {
		t.Fatalf("second page %v overlaps the first %v", got, sids(first))
	}
}

// Unknown routes and methods under the Twilio API answer Twilio's error
// JSON with the right status, as client libraries expect.
func TestUnknownTwilioRoutesAnswerTwilioErrors(t *testing.T) {
	h := newHarness(t)
	acct := "/2010-04-01/Accounts/" + h.cfg.AccountSID
	for _, tt := range []struct {
		method, path string
		status, code int
	}{
		{"GET", acct + "/Nope.json", 404, 20404},
		{"POST", "/2010-04-01/Whatever", 404, 20404},
		{"DELETE", acct + "/Messages.json", 405, 20004},
	} {
		status, body := h.twilioRaw(tt.method, tt.path)
		if status != tt.status || body["code"] != float64(tt.code) || body["status"] != float64(tt.status) || body["message"] == "" || body["more_info"] == nil {
			t.Errorf("%s %s: %d %v, want %d with Twilio error %d", tt.method, tt.path, status, body, tt.status, tt.code)
		}
	}
	if status, _ := h.twilioRaw("GET", "/sim/v1/nope"); status != 404 {
		t.Errorf("control route: %d", status)
	}
}
