package ivr

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
)

// documented lists the TwiML voice verbs and attributes Twilio documents that
// this product may use, and which verbs may nest in which.
var documented = map[string]struct {
	attrs    []string
	children []string
}{
	"Response": {children: []string{"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject"}},
	"Say":      {attrs: []string{"voice", "language", "loop"}},
	"Play":     {attrs: []string{"loop", "digits"}},
	"Pause":    {attrs: []string{"length"}},
	"Gather": {attrs: []string{"action", "method", "timeout", "finishOnKey", "numDigits", "input", "actionOnEmptyResult", "language", "hints", "bargeIn"},
		children: []string{"Say", "Play", "Pause"}},
	"Redirect": {attrs: []string{"method"}},
	"Hangup":   {},
	"Reject":   {attrs: []string{"reason"}},
}

type node struct {
	name     string
	attrs    map[string]string
	text     string
	children []*node
}

// parseTwiML parses a TwiML document into a tree, so documents are compared
// by structure (the builder does not keep attribute order).
func parseTwiML(doc string) (*node, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += strings.TrimSpace(string(t))
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("empty document")
	}
	return root, nil
}

// check reports verbs, nesting or attributes Twilio does not document.
func (n *node) check() error {
	spec, ok := documented[n.name]
	if !ok {
		return fmt.Errorf("undocumented verb <%s>", n.name)
	}
	for a := range n.attrs {
		if !contains(spec.attrs, a) {
			return fmt.Errorf("undocumented attribute %s on <%s>", a, n.name)
		}
	}
	for _, c := range n.children {
		if !contains(spec.children, c.name) {
			return fmt.Errorf("<%s> may not contain <%s>", n.name, c.name)
		}
		if err := c.check(); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// render prints the tree canonically: attributes sorted, one verb a line.
func (n *node) render(b *strings.Builder, depth int) {
	keys := make([]string, 0, len(n.attrs))
	for k := range n.attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(b, "%s<%s", strings.Repeat("  ", depth), n.name)
	for _, k := range keys {
		fmt.Fprintf(b, " %s=%q", k, n.attrs[k])
	}
	b.WriteString(">")
	if n.text != "" {
		b.WriteString(" " + n.text)
	}
	b.WriteString("\n")
	for _, c := range n.children {
		c.render(b, depth+1)
	}
}
