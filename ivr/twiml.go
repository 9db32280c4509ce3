package ivr

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"ppprenew/workflows/engine"
)

// doc accumulates the verbs of one TwiML answer.
type doc struct {
	voice engine.Voice
	verbs []twiml.Element
}

func (d *doc) say(text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	d.verbs = append(d.verbs, d.sayEl(text))
}

func (d *doc) sayEl(text string) twiml.Element {
	return &twiml.VoiceSay{Message: text, Language: d.voice.Language, Voice: d.voice.Voice}
}

// gather asks for digits while saying the prompts; with no input Twilio
// still calls the action (actionOnEmptyResult), so silence is handled here.
func (d *doc) gather(action string, numDigits int, finishOnKey string, timeout time.Duration, prompts ...string) {
	g := &twiml.VoiceGather{
		Input: "dtmf", Action: action, Method: "POST", Timeout: strconv.Itoa(int(timeout / time.Second)),
		ActionOnEmptyResult: "true", FinishOnKey: finishOnKey,
	}
	if numDigits > 0 {
		g.NumDigits = strconv.Itoa(numDigits)
	}
	for _, p := range prompts {
		if strings.TrimSpace(p) != "" {
			g.InnerElements = append(g.InnerElements, d.sayEl(p))
		}
	}
	d.verbs = append(d.verbs, g)
}

func (d *doc) pause(seconds int) {
	d.verbs = append(d.verbs, &twiml.VoicePause{Length: strconv.Itoa(seconds)})
}

func (d *doc) redirect(u string) {
	d.verbs = append(d.verbs, &twiml.VoiceRedirect{Url: u, Method: "POST"})
}

func (d *doc) hangup() { d.verbs = append(d.verbs, &twiml.VoiceHangup{}) }

func (d *doc) String() (string, error) { return twiml.Voice(d.verbs) }

// route builds a callback URL under /twilio/voice with query parameters.
func (w *Webhooks) route(path string, q url.Values) string {
	u := strings.TrimRight(w.Config.PublicURL, "/") + "/twilio/voice" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// done saves the call session and renders the document.
func (w *Webhooks) done(ctx context.Context, d *doc, cl call) (string, error) {
	if err := w.saveCall(ctx, cl); err != nil {
		return "", err
	}
	return d.String()
}
