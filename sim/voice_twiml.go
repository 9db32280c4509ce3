package sim

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// twimlNode is an element of a voice TwiML document, or a text node when
// name is empty. Children keep document order so SSML inside <Say> reads
// as written.
type twimlNode struct {
	name     string
	attrs    map[string]string
	children []*twimlNode
	text     string
}

// errNotTwiML is a document that does not parse as a TwiML <Response>.
var errNotTwiML = errors.New("not a TwiML <Response> document")

// parseTwiML parses a voice TwiML document and returns its <Response>.
func parseTwiML(body string) (*twimlNode, error) {
	if strings.TrimSpace(body) == "" {
		return nil, fmt.Errorf("%w: empty body", errNotTwiML)
	}
	d := xml.NewDecoder(strings.NewReader(body))
	var root *twimlNode
	var stack []*twimlNode
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNotTwiML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &twimlNode{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", errNotTwiML)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return nil, fmt.Errorf("%w: text outside the root element", errNotTwiML)
				}
				continue
			}
			p := stack[len(stack)-1]
			p.children = append(p.children, &twimlNode{text: string(t)})
		}
	}
	if root == nil || root.name != "Response" {
		return nil, fmt.Errorf("%w: root element is not <Response>", errNotTwiML)
	}
	return root, nil
}

// verbs returns the element children of n.
func (n *twimlNode) verbs() []*twimlNode {
	var out []*twimlNode
	for _, ch := range n.children {
		if ch.name != "" {
			out = append(out, ch)
		}
	}
	return out
}

// textOf returns the text of n and its descendants, whitespace collapsed.
func (n *twimlNode) textOf() string {
	var b strings.Builder
	var walk func(*twimlNode)
	walk = func(x *twimlNode) {
		if x.name == "" {
			b.WriteString(x.text)
			b.WriteByte(' ')
			return
		}
		for _, ch := range x.children {
			walk(ch)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// intAttr reads an integer attribute, def when absent or not a number.
func (n *twimlNode) intAttr(name string, def int) int {
	v, ok := n.attrs[name]
	if !ok {
		return def
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return def
	}
	return i
}

// attr reads an attribute, def when absent.
func (n *twimlNode) attr(name, def string) string {
	if v, ok := n.attrs[name]; ok {
		return v
	}
	return def
}

// Voice TwiML verbs the engine runs, and those it records as skipped.
var (
	runVerbs = map[string]bool{"Say": true, "Play": true, "Pause": true, "Gather": true,
		"Redirect": true, "Hangup": true, "Reject": true}
	skipVerbs = map[string]bool{"Dial": true, "Record": true, "Enqueue": true, "Leave": true,
		"Sms": true, "Connect": true, "Pay": true, "Prompt": true, "Refer": true, "Start": true,
		"Stop": true, "Echo": true, "Queue": true, "Siprec": true, "Stream": true, "Message": true}
)

// checkVerbs reports the first element under <Response> that is no Twilio
// voice verb (Twilio answers such a document with an application error).
func checkVerbs(root *twimlNode) error {
	for _, v := range root.verbs() {
		if !runVerbs[v.name] && !skipVerbs[v.name] {
			return fmt.Errorf("<%s> is not a TwiML voice verb", v.name)
		}
	}
	return nil
}

// resolveURL resolves ref against the document URL base, as Twilio does for
// relative action, Redirect and Play URLs. The result must be http(s).
func resolveURL(base, ref string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("invalid URL %q: %w", ref, err)
	}
	if !u.IsAbs() {
		if base == "" {
			return "", fmt.Errorf("relative URL %q with no document URL to resolve it against", ref)
		}
		b, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("invalid document URL %q: %w", base, err)
		}
		u = b.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("URL %q is not an http(s) URL", u.String())
	}
	return u.String(), nil
}
