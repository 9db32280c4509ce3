package engine

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SettingsProblem is one problem of a settings file, at the line and column
// of the offending value (or of its key, when the value is a block or is
// missing). It matches ErrSettings with errors.Is.
type SettingsProblem struct {
	// File is the settings file's name as given.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path is the setting, such as lead_time_range.min or escalation[1].after.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error is "file:line:col: path: message".
func (p *SettingsProblem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
			if p.Column > 0 {
				fmt.Fprintf(&b, ":%d", p.Column)
			}
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Is makes every problem an ErrSettings.
func (p *SettingsProblem) Is(target error) bool { return target == ErrSettings }

// position is a place in the file.
type position struct{ line, col int }

// settingsIndex maps each setting's path to where it is written.
type settingsIndex map[string]position

// locate finds the position of path, or of its nearest written parent (a
// missing key is reported where its parent is), or the file's start.
func (ix settingsIndex) locate(path string) position {
	for p := path; ; {
		if pos, ok := ix[p]; ok {
			return pos
		}
		i := max(strings.LastIndexByte(p, '.'), strings.LastIndexByte(p, '['))
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return position{1, 1}
}

// problem is a validation finding before it has a position.
type problem struct{ path, msg string }

// newProblem splits "path: message"; a message without a leading path
// (one that starts with a space-free token and ": ") has an empty path.
func newProblem(text string) problem {
	if i := strings.Index(text, ": "); i > 0 && !strings.ContainsAny(text[:i], " \"") {
		return problem{path: text[:i], msg: text[i+2:]}
	}
	return problem{msg: text}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseSettingsFile decodes and validates a settings file named file,
// reporting every problem with its position.
func parseSettingsFile(file string, data []byte) (*Settings, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p := &SettingsProblem{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Msg = m[2]
		}
		return nil, settingsError(p)
	}
	if len(root.Content) == 0 {
		return nil, settingsError(&SettingsProblem{File: file, Line: 1, Column: 1, Msg: "the file is empty"})
	}
	doc := root.Content[0]
	c := &nodeChecker{file: file, index: settingsIndex{"": {doc.Line, doc.Column}}}
	c.check(doc, reflect.TypeFor[Settings](), "")
	for _, n := range c.wrong {
		// Decode the rest as if the wrong values were not written: a
		// decoder error would stop it half-way.
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	var s Settings
	if err := doc.Decode(&s); err != nil && len(c.problems) == 0 {
		// The walk above should have found it; report it all the same.
		c.problems = append(c.problems, &SettingsProblem{File: file, Msg: err.Error()})
	}
	typed := c.problems
	for _, pr := range s.validate() {
		if shadowed(pr.path, typed) {
			continue // the value did not decode; its zero value proves nothing
		}
		pos := c.index.locate(pr.path)
		c.problems = append(c.problems, &SettingsProblem{File: file, Line: pos.line, Column: pos.col, Path: pr.path, Msg: pr.msg})
	}
	if len(c.problems) > 0 {
		slices.SortStableFunc(c.problems, func(a, b *SettingsProblem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, settingsError(c.problems...)
	}
	s.file, s.index = file, c.index
	return &s, nil
}

// Position is "file:line:col" of the setting at path (such as
// templates.en.quote), or of its nearest written parent; "" for settings
// that were not parsed from a file. Checks made outside this package (the
// SMS segment budget) use it to point at the offending value.
func (s *Settings) Position(path string) string {
	if s.index == nil {
		return ""
	}
	pos := s.index.locate(path)
	return fmt.Sprintf("%s:%d:%d", s.file, pos.line, pos.col)
}

// shadowed reports whether path is at or under a setting whose value had
// the wrong type.
func shadowed(path string, typed []*SettingsProblem) bool {
	for _, t := range typed {
		if t.Path != "" && (path == t.Path || strings.HasPrefix(path, t.Path+".") || strings.HasPrefix(path, t.Path+"[")) {
			return true
		}
	}
	return false
}

// settingsError joins problems under one ErrSettings error.
func settingsError(problems ...*SettingsProblem) error {
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return fmt.Errorf("%w (%d %s):\n%w", ErrSettings, len(problems), noun, errors.Join(errs...))
}

// nodeChecker walks the YAML tree along the Settings type: it reports
// unknown keys and values of the wrong type at their position, and records
// where every setting is written.
type nodeChecker struct {
	file     string
	index    settingsIndex
	problems []*SettingsProblem
	wrong    []*yaml.Node // values of the wrong type
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// bad reports a value of the wrong type.
func (c *nodeChecker) bad(n *yaml.Node, path, format string, a ...any) {
	c.problems = append(c.problems, &SettingsProblem{File: c.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, a...)})
	c.wrong = append(c.wrong, n)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *nodeChecker) check(n *yaml.Node, t reflect.Type, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case reflect.PointerTo(t).Implements(unmarshalerType):
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.bad(n, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			c.bad(n, path, "must be a duration such as 5m")
		} else if _, err := time.ParseDuration(n.Value); err != nil || n.Tag != "!!str" {
			c.bad(n, path, "%q is not a duration such as 5m", n.Value)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.bad(n, path, "must be a mapping of keys to values")
			return
		}
		fields := map[string]reflect.StructField{}
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
				fields[name] = f
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				c.problems = append(c.problems, &SettingsProblem{File: c.file, Line: k.Line, Column: k.Column, Path: p, Msg: "unknown key"})
				continue
			}
			c.at(k, v, p)
			c.check(v, f.Type, p)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.bad(n, path, "must be a mapping of keys to values")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			c.at(k, v, p)
			c.check(v, t.Elem(), p)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.bad(n, path, "must be a list")
			return
		}
		for i, v := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			c.index[p] = position{v.Line, v.Column}
			c.check(v, t.Elem(), p)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			c.bad(n, path, "must be a single value, not a %s", kindName(n.Kind))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.bad(n, path, "%q is not a %s", n.Value, typeName(t))
		}
	}
}

// at records where the setting at path is: its value when that is a single
// value on the key's line, else its key.
func (c *nodeChecker) at(k, v *yaml.Node, path string) {
	if v.Kind == yaml.ScalarNode {
		c.index[path] = position{v.Line, v.Column}
		return
	}
	c.index[path] = position{k.Line, k.Column}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "whole number"
	}
	return t.String()
}
