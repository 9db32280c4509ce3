package sim

import (
	"context"
	"fmt"
)

// VoiceAnswer is how a simulated handset treats an incoming call.
type VoiceAnswer string

// Handset answers.
const (
	// AnswerHuman: a person picks up after Rings rings and keys the steps.
	AnswerHuman VoiceAnswer = "human"
	// AnswerVoicemail: an answering machine picks up after Rings rings; it
	// presses no keys, so every <Gather> times out.
	AnswerVoicemail VoiceAnswer = "voicemail"
	// AnswerBusy: the line rings Rings times, then the call ends busy.
	AnswerBusy VoiceAnswer = "busy"
	// AnswerNoAnswer: the line rings until the call's Timeout, then the call
	// ends no-answer.
	AnswerNoAnswer VoiceAnswer = "no-answer"
	// AnswerFailed: the call cannot be connected and ends failed without
	// ringing.
	AnswerFailed VoiceAnswer = "failed"
)

// valid reports whether a is a known answer.
func (a VoiceAnswer) valid() bool {
	switch a {
	case AnswerHuman, AnswerVoicemail, AnswerBusy, AnswerNoAnswer, AnswerFailed:
		return true
	}
	return false
}

// VoiceStep is what the caller does at one <Gather>, in order: after DelayS
// simulated seconds, key Digits (or say Speech when the Gather takes
// speech), or hang up. An empty step is silence.
type VoiceStep struct {
	Digits string `json:"digits,omitempty"`
	Speech string `json:"speech,omitempty"`
	DelayS int    `json:"delay_s,omitempty"`
	Hangup bool   `json:"hangup,omitempty"`
	Note   string `json:"note,omitempty"`
	// Duplicate delivers the Gather's action request twice with the same
	// CallSid and parameters, as a carrier retry would; the second answer
	// is the one executed.
	Duplicate bool `json:"duplicate,omitempty"`
}

// VoiceScript is how the handset at a number answers calls. Each call
// starts from the first step; steps are consumed one per <Gather>, and
// missing steps are silence. AnsweredBy overrides the answering-machine
// detection result (human, machine_start, machine_end_beep,
// machine_end_silence, machine_end_other, fax, unknown).
type VoiceScript struct {
	Answer     VoiceAnswer `json:"answer"`
	Rings      int         `json:"rings"`
	AnsweredBy string      `json:"answered_by,omitempty"`
	Steps      []VoiceStep `json:"steps"`
}

// answeredByValues are Twilio's AnsweredBy values.
var answeredByValues = map[string]bool{
	"human": true, "machine_start": true, "machine_end_beep": true, "machine_end_silence": true,
	"machine_end_other": true, "fax": true, "unknown": true,
}

// defaultScript is the behaviour of a handset without a script: a person
// answers on the first ring and stays silent.
func defaultScript() VoiceScript {
	return VoiceScript{Answer: AnswerHuman, Rings: 1, Steps: []VoiceStep{}}
}

// normalise fills defaults and validates the script.
func (s VoiceScript) normalise() (VoiceScript, error) {
	if s.Answer == "" {
		s.Answer = AnswerHuman
	}
	if !s.Answer.valid() {
		return s, fmt.Errorf("%w: unknown answer %q", ErrInvalidScript, s.Answer)
	}
	if s.Rings < 0 {
		return s, fmt.Errorf("%w: negative rings", ErrInvalidScript)
	}
	if s.Rings == 0 {
		s.Rings = 1
	}
	if s.AnsweredBy != "" && !answeredByValues[s.AnsweredBy] {
		return s, fmt.Errorf("%w: unknown answered_by %q", ErrInvalidScript, s.AnsweredBy)
	}
	steps, err := normaliseSteps(s.Steps)
	s.Steps = steps
	return s, err
}

// normaliseSteps validates caller steps.
func normaliseSteps(steps []VoiceStep) ([]VoiceStep, error) {
	out := make([]VoiceStep, 0, len(steps))
	for i, st := range steps {
		if st.DelayS < 0 {
			return nil, fmt.Errorf("%w: step %d has a negative delay_s", ErrInvalidScript, i)
		}
		for _, k := range st.Digits {
			if !isDTMF(k) {
				return nil, fmt.Errorf("%w: step %d key %q is not a DTMF key", ErrInvalidScript, i, k)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// isDTMF reports whether k is a telephone keypad key.
func isDTMF(k rune) bool {
	return (k >= '0' && k <= '9') || k == '*' || k == '#'
}

// SetVoiceScript sets how the handset at number answers later calls.
func (c *Carrier) SetVoiceScript(number string, s VoiceScript) (VoiceScript, error) {
	if !e164.MatchString(number) {
		return VoiceScript{}, fmt.Errorf("%w: %q", ErrInvalidNumber, number)
	}
	s, err := s.normalise()
	if err != nil {
		return VoiceScript{}, err
	}
	vs := c.voice()
	vs.mu.Lock()
	vs.scripts[number] = s
	vs.mu.Unlock()
	c.log.Info("sim voice script", "phone", maskNumber(number), "answer", string(s.Answer),
		"rings", s.Rings, "steps", len(s.Steps))
	return s, nil
}

// VoiceScriptOf returns the script of the handset at number (the default,
// a person answering on the first ring and saying nothing, when none is set).
func (c *Carrier) VoiceScriptOf(number string) VoiceScript {
	vs := c.voice()
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if s, ok := vs.scripts[number]; ok {
		s.Steps = append([]VoiceStep{}, s.Steps...)
		return s
	}
	return defaultScript()
}

// Callee lets a simulated device take calls to its number before any
// handset script: called with the number dialled and the caller ID the
// device sees, it returns handled=false to let the handset script decide,
// or an outcome: "busy" (the device rejected the call: it rang, then busy),
// "no-answer" or "failed". No TwiML is fetched for a handled call. The hook
// runs on the call's goroutine while the line rings, so it must return
// promptly; ctx ends when it returns, so work that must outlive the call
// (connecting back, say) needs its own context.
type Callee func(ctx context.Context, to, from string) (outcome string, handled bool)

// SetCallee installs the device hook consulted for every outbound call
// (nil removes it).
func (c *Carrier) SetCallee(f Callee) {
	vs := c.voice()
	vs.mu.Lock()
	vs.callee = f
	vs.mu.Unlock()
}
