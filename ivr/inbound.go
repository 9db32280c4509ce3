package ivr

import (
	"context"
	"errors"
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
		u, err = w.Conversations.DriverByPhone(ctx, phone)
		if err != nil && !errors.Is(err, workflows.ErrNotFound) {
			return "", err
		}
	}
	if phone == "" || u.ID == "" {
		w.Log.InfoContext(ctx, "inbound call from an unknown or withheld number", "call", cl.Sid, "from", engine.MaskPhone(phone))
		cl.Lang = w.Settings.DefaultLanguage
		d := w.newDoc(cl.Lang)
		if sp := w.speak(d, &cl, engine.State{}, engine.CallUnknownCaller, engine.CallContext{}); sp.Gather == "" {
			return d.String()
		}
		return w.done(ctx, d, cl)
	}
	cl.Phone, cl.UserID, cl.Lang = phone, u.ID, w.Settings.Language(u.Language)
	ids, err := w.Conversations.OpenConversations(ctx, phone)
	if err != nil {
		return "", err
	}
	w.Log.InfoContext(ctx, "inbound call", "call", cl.Sid, "from", engine.MaskPhone(phone), "sessions", len(ids))
	d := w.newDoc(cl.Lang)
	switch len(ids) {
	case 0:
		w.speak(d, &cl, engine.State{}, engine.CallNoSession, engine.CallContext{})
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
	st, err := w.Conversations.Conversation(ctx, convID)
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
	st, err := w.Conversations.ChannelEvent(ctx, st.ID, engine.Input{Kind: engine.InputCallMenu})
	if err != nil {
		return err
	}
	w.speak(d, cl, st, engine.CallStatusMenu, engine.CallContext{})
	return nil
}

// choose asks which of several sessions the call is about.
func (w *Webhooks) choose(ctx context.Context, d *doc, cl *call) error {
	var choices []engine.State
	for i, id := range cl.Choices {
		if i >= engine.MaxCallChoices {
			break
		}
		st, err := w.Conversations.Conversation(ctx, id)
		if err != nil {
			return err
		}
		choices = append(choices, st)
	}
	w.speak(d, cl, engine.State{}, engine.CallChoose, engine.CallContext{Choices: choices})
	return nil
}

func (w *Webhooks) chooseKey(ctx context.Context, d *doc, cl *call, digits string) error {
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > len(cl.Choices) || n > engine.MaxCallChoices {
		w.speak(d, cl, engine.State{}, engine.CallInvalid, engine.CallContext{})
		return w.choose(ctx, d, cl)
	}
	return w.enter(ctx, d, cl, cl.Choices[n-1])
}

// locateKey takes the meter number, then the bay, of a caller the platform
// does not recognise, then asks for the PIN of the session's driver.
func (w *Webhooks) locateKey(ctx context.Context, d *doc, cl *call, digits string) error {
	if cl.Kind == engine.GatherMeter {
		cl.Meter = digits
		w.speak(d, cl, engine.State{}, engine.CallAskBay, engine.CallContext{})
		return nil
	}
	meter := strings.TrimLeft(cl.Meter, "0")
	st, err := w.Conversations.OpenAtBay(ctx, digits, func(id string) bool { return digitsOf(id) == meter })
	ok := err == nil
	if err != nil && !errors.Is(err, workflows.ErrNotFound) {
		return err
	}
	var u engine.User
	if ok {
		u, err = w.Conversations.Driver(ctx, st.UserID)
		if err != nil {
			return err
		}
	}
	if !ok || u.PINHash == "" {
		// Without a PIN there is no way to know the caller is the driver.
		w.speak(d, cl, engine.State{}, engine.CallNotFound, engine.CallContext{})
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
	w.speak(d, cl, engine.State{}, engine.CallPIN, engine.CallContext{})
	return nil
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
	n, err := w.Redis.Exists(ctx, keyPINLock(userID)).Result()
	return n == 1, err
}

// locked ends a call whose voice confirmation is locked; the conversation
// goes on by text.
func (w *Webhooks) locked(ctx context.Context, d *doc, cl *call) {
	w.speak(d, cl, engine.State{}, engine.CallPINLocked, engine.CallContext{})
	if err := w.fallback(ctx, *cl, "pin-locked"); err != nil {
		w.Log.ErrorContext(ctx, "fallback after PIN lockout failed", "conv", cl.Conv, "err", err)
	}
}

// pinKey checks a PIN. The digits are never logged or stored.
func (w *Webhooks) pinKey(ctx context.Context, d *doc, cl *call, digits string) error {
	u, err := w.Conversations.Driver(ctx, cl.UserID)
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
		v := w.Settings.Voice
		key := keyPINTries(u.ID)
		n, err := w.Redis.Incr(ctx, key).Result()
		if err != nil {
			return err
		}
		w.Redis.Expire(ctx, key, v.PINLockout)
		w.Log.WarnContext(ctx, "wrong PIN", "conv", cl.Conv, "call", cl.Sid, "attempt", n)
		if n >= int64(v.PINAttempts) {
			w.Redis.Set(ctx, keyPINLock(u.ID), 1, v.PINLockout)
			w.Redis.Del(ctx, key)
			w.locked(ctx, d, cl)
			return nil
		}
		w.speak(d, cl, engine.State{}, engine.CallPINWrong, engine.CallContext{})
		return nil
	}
	w.Redis.Del(ctx, keyPINTries(u.ID))
	cl.Verified = true
	st, err := w.Conversations.Conversation(ctx, cl.Conv)
	if err != nil {
		return err
	}
	if st.Phase == engine.PhaseQuoted {
		// The PIN was asked to confirm the quote: confirm it.
		st, spoken, err := w.Conversations.ReplyTo(ctx, cl.Conv, engine.AnswerOne, engine.ChannelVoice, nil)
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
