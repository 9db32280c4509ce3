package ivr

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/nyaruka/phonenumbers"
	"golang.org/x/crypto/bcrypt"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// withheld are the caller IDs Twilio uses for a hidden number.
var withheld = map[string]bool{"": true, "anonymous": true, "+266696687": true, "restricted": true, "unknown": true, "private": true}

// normalise returns the E.164 form of a caller ID, or "" when it is withheld
// or not a valid number.
func normalise(from, region string) string {
	if withheld[strings.ToLower(strings.TrimSpace(from))] {
		return ""
	}
	n, err := phonenumbers.Parse(from, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// inbound answers a call from a driver: recognised by caller ID, or (if the
// operator allows it) by meter, bay and PIN.
func (w *Webhooks) inbound(ctx context.Context, c echo.Context, f url.Values) (string, error) {
	cl := call{Sid: f.Get("CallSid"), Started: w.Now()}
	phone := normalise(f.Get("From"), w.Config.DefaultRegion)
	var u engine.User
	var err error
	if phone != "" {
		u, err = w.Runner.Registry.UserByPhone(ctx, phone)
		if err != nil && !errors.Is(err, workflows.ErrNotFound) {
			return "", err
		}
	}
	if phone == "" || u.ID == "" {
		w.Log.InfoContext(ctx, "inbound call from an unknown or withheld number", "call", cl.Sid, "from", engine.MaskPhone(phone))
		cl.Lang = w.Runner.Settings.DefaultLanguage
		d := w.newDoc(cl.Lang)
		if !w.Runner.Settings.Voice.AllowUnknownCallers {
			d.say(w.prompt(cl.Lang, "unknown_caller", w.baseData()))
			d.hangup()
			return d.String()
		}
		w.ask(d, &cl, kindMeter, w.prompt(cl.Lang, "ask_meter", w.baseData()))
		return w.done(ctx, d, cl)
	}
	cl.Phone, cl.UserID, cl.Lang = phone, u.ID, w.Runner.Settings.Language(u.Language)
	ids, err := w.Runner.Store.OpenForPhone(ctx, phone)
	if err != nil {
		return "", err
	}
	w.Log.InfoContext(ctx, "inbound call", "call", cl.Sid, "from", engine.MaskPhone(phone), "sessions", len(ids))
	d := w.newDoc(cl.Lang)
	switch len(ids) {
	case 0:
		d.say(w.prompt(cl.Lang, "no_session", w.baseData()))
		d.hangup()
		return d.String()
	case 1:
		if err := w.enter(ctx, d, &cl, ids[0]); err != nil {
			return "", err
		}
	default:
		cl.Choices = ids
		if err := w.choose(ctx, d, &cl); err != nil {
			return "", err
		}
	}
	return w.done(ctx, d, cl)
}

// enter joins a call to a conversation and speaks its menu.
func (w *Webhooks) enter(ctx context.Context, d *doc, cl *call, convID string) error {
	st, err := w.Runner.Store.Get(ctx, convID)
	if err != nil {
		return err
	}
	cl.Conv, cl.Template = st.ID, "notice"
	if st.Phase == engine.PhaseParked && st.PaidUntil.After(w.Now()) {
		return w.offerMenu(ctx, d, cl, st)
	}
	w.menu(d, cl, st, nil)
	return nil
}

// offerMenu speaks the status of a stay the driver was not asked about and
// offers the menu; the conversation records it as a prompt, so 1 quotes
// even after an earlier renewal.
func (w *Webhooks) offerMenu(ctx context.Context, d *doc, cl *call, st engine.State) error {
	st, err := w.Runner.Apply(ctx, st.ID, engine.Input{Kind: engine.InputCallMenu})
	if err != nil {
		return err
	}
	d.say(w.convPrompt(st, "status"))
	w.ask(d, cl, kindMenu, w.convPrompt(st, "menu"))
	return nil
}

var choiceFormats = map[string]string{
	"en":    "Press %d for bay %s at %s. ",
	"zh-HK": "%[3]s%[2]s號車位請按%[1]d。",
	"zh-CN": "%[3]s%[2]s号车位请按%[1]d。",
}

// choose asks which of several sessions the call is about.
func (w *Webhooks) choose(ctx context.Context, d *doc, cl *call) error {
	var b strings.Builder
	format := choiceFormats[cl.Lang]
	if format == "" {
		format = choiceFormats["en"]
	}
	for i, id := range cl.Choices {
		if i >= 8 {
			break
		}
		st, err := w.Runner.Store.Get(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, format, i+1, st.Bay, st.Location)
	}
	data := w.baseData()
	data.Choices = strings.TrimSpace(b.String())
	w.ask(d, cl, kindChoose, w.prompt(cl.Lang, "choose_session", data))
	return nil
}

func (w *Webhooks) chooseKey(ctx context.Context, d *doc, cl *call, digits string) error {
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > len(cl.Choices) || n > 8 {
		d.say(w.prompt(cl.Lang, "invalid", w.baseData()))
		return w.choose(ctx, d, cl)
	}
	return w.enter(ctx, d, cl, cl.Choices[n-1])
}

// locateKey takes the meter number, then the bay, of a caller the platform
// does not recognise, then asks for the PIN of the session's driver.
func (w *Webhooks) locateKey(ctx context.Context, d *doc, cl *call, digits string) error {
	if cl.Kind == kindMeter {
		cl.Meter = digits
		w.ask(d, cl, kindBay, w.prompt(cl.Lang, "ask_bay", w.baseData()))
		return nil
	}
	st, ok, err := w.findSession(ctx, cl.Meter, digits)
	if err != nil {
		return err
	}
	var u engine.User
	if ok {
		u, err = w.Runner.Registry.User(ctx, st.UserID)
		if err != nil {
			return err
		}
	}
	if !ok || u.PINHash == "" {
		// Without a PIN there is no way to know the caller is the driver.
		d.say(w.prompt(cl.Lang, "not_found", w.baseData()))
		d.say(w.prompt(cl.Lang, "unknown_caller", w.baseData()))
		d.hangup()
		return nil
	}
	cl.Conv, cl.UserID, cl.Phone, cl.Lang = st.ID, u.ID, u.Phone, st.Language
	*d = *w.newDoc(cl.Lang)
	if locked, err := w.pinLocked(ctx, u.ID); err != nil {
		return err
	} else if locked {
		w.locked(ctx, d, cl)
		return nil
	}
	w.ask(d, cl, kindPIN, w.prompt(cl.Lang, "pin_prompt", w.baseData()))
	return nil
}

// findSession finds the open conversation at a meter (by the digits of its
// id) and bay.
func (w *Webhooks) findSession(ctx context.Context, meterDigits, bay string) (engine.State, bool, error) {
	ids, err := w.Runner.Store.Recent(ctx, 1000)
	if err != nil {
		return engine.State{}, false, err
	}
	for _, id := range ids {
		st, err := w.Runner.Store.Get(ctx, id)
		if err != nil {
			continue
		}
		if !st.Phase.Terminal() && st.Bay == bay && digitsOf(st.MeterID) == strings.TrimLeft(meterDigits, "0") {
			return st, true, nil
		}
	}
	return engine.State{}, false, nil
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.TrimLeft(b.String(), "0")
}

// HashPIN returns the bcrypt hash stored for a voice PIN of 4 to 6 digits.
func HashPIN(pin string) (string, error) {
	if len(pin) < 4 || len(pin) > 6 || strings.Trim(pin, "0123456789") != "" {
		return "", errors.New("a PIN is 4 to 6 digits")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), bcrypt.DefaultCost)
	return string(h), err
}

func (w *Webhooks) pinLocked(ctx context.Context, userID string) (bool, error) {
	n, err := w.Redis.Exists(ctx, "ppp:ivr:pinlock:"+userID).Result()
	return n == 1, err
}

// locked ends a call whose voice confirmation is locked; the conversation
// goes on by text.
func (w *Webhooks) locked(ctx context.Context, d *doc, cl *call) {
	d.say(w.prompt(cl.Lang, "pin_locked", w.baseData()))
	d.hangup()
	if err := w.fallback(ctx, *cl, "pin-locked"); err != nil {
		w.Log.ErrorContext(ctx, "fallback after PIN lockout failed", "conv", cl.Conv, "err", err)
	}
}

// pinKey checks a PIN. The digits are never logged or stored.
func (w *Webhooks) pinKey(ctx context.Context, d *doc, cl *call, digits string) error {
	u, err := w.Runner.Registry.User(ctx, cl.UserID)
	if err != nil {
		return err
	}
	if locked, err := w.pinLocked(ctx, u.ID); err != nil {
		return err
	} else if locked {
		w.locked(ctx, d, cl)
		return nil
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PINHash), []byte(digits)) != nil {
		v := w.Runner.Settings.Voice
		key := "ppp:ivr:pin:" + u.ID
		n, err := w.Redis.Incr(ctx, key).Result()
		if err != nil {
			return err
		}
		w.Redis.Expire(ctx, key, v.PINLockout)
		w.Log.WarnContext(ctx, "wrong PIN", "conv", cl.Conv, "call", cl.Sid, "attempt", n)
		if n >= int64(v.PINAttempts) {
			w.Redis.Set(ctx, "ppp:ivr:pinlock:"+u.ID, 1, v.PINLockout)
			w.Redis.Del(ctx, key)
			w.locked(ctx, d, cl)
			return nil
		}
		d.say(w.prompt(cl.Lang, "pin_wrong", w.baseData()))
		w.ask(d, cl, kindPIN, w.prompt(cl.Lang, "pin_prompt", w.baseData()))
		return nil
	}
	w.Redis.Del(ctx, "ppp:ivr:pin:"+u.ID)
	cl.Verified = true
	st, err := w.Runner.Store.Get(ctx, cl.Conv)
	if err != nil {
		return err
	}
	if st.Phase == engine.PhaseQuoted {
		// The PIN was asked to confirm the quote: confirm it.
		st, spoken, err := w.Runner.ReplyOn(ctx, cl.Conv, engine.AnswerOne, engine.ChannelVoice)
		if err != nil {
			return err
		}
		w.menu(d, cl, st, spoken)
		return nil
	}
	if st.Phase == engine.PhaseParked {
		return w.offerMenu(ctx, d, cl, st)
	}
	w.menu(d, cl, st, nil)
	return nil
}
