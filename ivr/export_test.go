package ivr

import "strings"

// Test hooks for the external test package.

func ParseTwiMLForTest(doc string) (*node, error) { return parseTwiML(doc) }
func CheckTwiMLForTest(n *node) error             { return n.check() }
func RenderTwiMLForTest(n *node) string {
	var b strings.Builder
	n.render(&b, 1)
	return b.String()
}
