package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"
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

// A message record is redacted with an empty Body, as twilio-go's
// UpdateMessage sends it, and deleted once final; the handset keeps what it
// received. A cancel (nothing is scheduled) and an update with a text are
// refused with Twilio's codes, and a message in flight cannot be deleted.
func TestMessageRedactAndDelete(t *testing.T) {
	h := newHarness(t)
	api := h.api()
	const to = "+85291234567"
	sent, err := h.send(api, testPlatform, to, "your PIN hint: 24", "")
	if err != nil {
		t.Fatal(err)
	}
	sid := *sent.Sid
	h.waitStatus(sid, StatusDelivered)
	// A message held in the queue is in flight: not deletable yet.
	if err := h.carrier.InjectFault(Fault{Kind: FaultQueueDelay, Count: 1, DelayMS: 600_000}); err != nil {
		t.Fatal(err)
	}
	held, err := h.send(api, testPlatform, "+85291234568", "held", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := api.DeleteMessage(*held.Sid, &openapi.DeleteMessageParams{}); err == nil || !strings.Contains(err.Error(), "20009") {
		t.Fatalf("deleting a message in flight: %v, want 20009", err)
	}

	redact := &openapi.UpdateMessageParams{}
	redact.SetBody("")
	m, err := api.UpdateMessage(sid, redact)
	if err != nil || m.Body == nil || *m.Body != "" {
		t.Fatalf("redact: %+v, %v", m, err)
	}
	if got, _ := h.carrier.Message(sid); got.Body != "" {
		t.Fatalf("the record still has its text %q", got.Body)
	}
	if inbox := h.carrier.PhoneMessages(to, ""); len(inbox) != 1 || inbox[0].Body != "your PIN hint: 24" {
		t.Fatalf("the handset's texts after a redaction: %+v", inbox)
	}
	for name, p := range map[string]*openapi.UpdateMessageParams{
		"cancel":    new(openapi.UpdateMessageParams).SetStatus("canceled"),
		"new text":  new(openapi.UpdateMessageParams).SetBody("changed"),
		"both":      new(openapi.UpdateMessageParams).SetBody("").SetStatus("canceled"),
		"no change": {},
	} {
		want := "30400"
		if name == "cancel" {
			want = "30409"
		}
		if _, err := api.UpdateMessage(sid, p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("update %s: %v, want %s", name, err, want)
		}
	}

	if err := api.DeleteMessage(sid, &openapi.DeleteMessageParams{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := api.FetchMessage(sid, &openapi.FetchMessageParams{}); err == nil || !strings.Contains(err.Error(), "20404") {
		t.Fatalf("fetch after delete: %v, want 20404", err)
	}
	list, err := api.ListMessage(new(openapi.ListMessageParams).SetTo(to))
	if err != nil || len(list) != 0 {
		t.Fatalf("list after delete: %d messages, %v", len(list), err)
	}
	if inbox := h.carrier.PhoneMessages(to, ""); len(inbox) != 1 {
		t.Fatalf("the handset lost the text: %+v", inbox)
	}
}
