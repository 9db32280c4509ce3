package sim

import (
	"net/url"
	"testing"

	"github.com/twilio/twilio-go/client"
)

// The vector twilio-go's own request validator tests use.
func TestSignKnownVector(t *testing.T) {
	form := url.Values{
		"Digits":                {"1234"},
		"CallSid":               {"CA1234567890ABCDE"},
		"To":                    {"+18005551212"},
		"Caller":                {"+14158675309"},
		"From":                  {"+14158675309"},
		"ReasonConferenceEnded": {"test"},
		"Reason":                {"Participant"},
	}
	got := Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if want := "vOEb5UThFn24KEfnOFLQY2AE5FY="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestSignAcceptedByTwilioValidator(t *testing.T) {
	tests := []struct {
		name string
		url  string
		form url.Values
	}{
		{"status callback with query", "https://ppp.example/twilio/status?conv=c1&k=2", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}},
		{"no params", "http://127.0.0.1:8080/twilio/sms", url.Values{}},
		{"unicode body", "http://h:9/x", url.Values{"Body": {"續期 1"}, "From": {"+85291234567"}}},
	}
	v := client.NewRequestValidator("tok123")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := Sign("tok123", tt.url, tt.form)
			params := map[string]string{}
			for k := range tt.form {
				params[k] = tt.form.Get(k)
			}
			if !v.Validate(tt.url, params, sig) {
				t.Fatalf("validator rejected %q", sig)
			}
			if v.Validate(tt.url+"&tampered=1", params, sig) {
				t.Fatal("validator accepted a signature for a different URL")
			}
			if Sign("other", tt.url, tt.form) == sig {
				t.Fatal("signature does not depend on the token")
			}
		})
	}
}
