package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"go.yaml.in/yaml/v3"
)

// Problem is one problem of a scenario file, at the line and column of the
// offending key or value.
type Problem struct {
	File         string
	Line, Column int
	Msg          string
}

// Error is "file:line:col: message".
func (p *Problem) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Msg)
}

// ErrBadInput is matched (errors.Is) by every Problem.
var ErrBadInput = errors.New("scenario: bad input")

// Is makes every problem an ErrBadInput.
func (p *Problem) Is(target error) bool { return target == ErrBadInput }

// Load reads scenario files; a directory stands for its *.yaml and *.yml
// files (not settings.yaml), sorted by name. Every problem of every file
// is reported (errors.Join of *Problem), and nothing is returned then.
func Load(paths ...string) ([]*Scenario, error) {
	var files []string
	var errs []error
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &Problem{File: p, Line: 1, Column: 1, Msg: "cannot read: " + err.Error()})
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			errs = append(errs, &Problem{File: p, Line: 1, Column: 1, Msg: "cannot read: " + err.Error()})
			continue
		}
		var in []string
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || n == SettingsFileName || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				continue
			}
			in = append(in, filepath.Join(p, n))
		}
		sort.Strings(in)
		files = append(files, in...)
	}
	var out []*Scenario
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, &Problem{File: f, Line: 1, Column: 1, Msg: "cannot read: " + err.Error()})
			continue
		}
		sc, err := Parse(f, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sc)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// SettingsFileName is the settings file a scenario directory may hold for
// the server the scenarios run against; Load skips it.
const SettingsFileName = "settings.yaml"

// Parse decodes one scenario file strictly and checks it.
func Parse(file string, data []byte) (*Scenario, error) {
	d := &decoder{file: file, at: map[string]*yaml.Node{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 1
		var te *yaml.TypeError
		msg := err.Error()
		if m := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(msg); m != nil && !errors.As(err, &te) {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, &Problem{File: file, Line: line, Column: 1, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	sc := &Scenario{File: file}
	if len(root.Content) == 0 {
		return nil, &Problem{File: file, Line: 1, Column: 1, Msg: "empty file: a scenario needs steps"}
	}
	d.decode(root.Content[0], reflect.ValueOf(sc).Elem(), "")
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	if len(d.errs) == 0 {
		check(d, sc, root.Content[0])
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return sc, nil
}

type decoder struct {
	file string
	errs []error
	// at is where each decoded field's value is written, by path
	// (steps[2].tap.meter).
	at map[string]*yaml.Node
}

// failAt reports a problem at path's value, or at the step or file start.
func (d *decoder) failAt(path string, fallback *yaml.Node, format string, a ...any) {
	if n, ok := d.at[path]; ok {
		d.fail(n, format, a...)
		return
	}
	d.fail(fallback, format, a...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) fail(n *yaml.Node, format string, a ...any) {
	d.errs = append(d.errs, &Problem{File: d.file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, a...)})
}

var (
	durationType = reflect.TypeOf(Duration(0))
	regexpType   = reflect.TypeOf(Regexp{})
	phoneType    = reflect.TypeOf(Phone(""))
	amountType   = reflect.TypeOf(Amount{})
	needType     = reflect.TypeOf(Need{})
	stepType     = reflect.TypeOf(Step{})
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// decode fills v from n, reporting problems with path for context.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && v.Kind() != reflect.Struct {
		return
	}
	switch v.Type() {
	case durationType:
		dur, err := time.ParseDuration(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil || dur < 0 {
			d.fail(n, "%s: %q is not a duration; use one like 30s or 2m", path, n.Value)
			return
		}
		v.SetInt(int64(dur))
		return
	case regexpType:
		re, err := regexp.Compile(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			msg := "not a string"
			if err != nil {
				msg = err.Error()
			}
			d.fail(n, "%s: bad regular expression %q: %s", path, n.Value, msg)
			return
		}
		v.Set(reflect.ValueOf(Regexp{re}))
		return
	case phoneType:
		if n.Kind != yaml.ScalarNode || !validPhone(n.Value) {
			d.fail(n, "%s: %q is not an E.164 phone number (like +85291234567)", path, n.Value)
			return
		}
		v.SetString(n.Value)
		return
	case amountType:
		m, err := parseAmount(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.fail(n, "%s: %q is not an amount like 10.00", path, n.Value)
			return
		}
		v.Set(reflect.ValueOf(Amount{Minor: m, Set: true}))
		return
	case needType:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, "%s: a settings need is a value or a bound like \"<=20s\"", path)
			return
		}
		nd := Need{Op: "=", Value: n.Value, Line: n.Line, Col: n.Column}
		for _, op := range []string{"<=", ">=", "<", ">"} {
			if rest, ok := strings.CutPrefix(n.Value, op); ok {
				nd.Op, nd.Value = op, strings.TrimSpace(rest)
				break
			}
		}
		v.Set(reflect.ValueOf(nd))
		return
	case stepType:
		d.decodeStep(n, v.Addr().Interface().(*Step), path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if v.Type().Elem().Kind() == reflect.String && n.Kind == yaml.ScalarNode {
				// "1,1" for a list of presses.
				for _, p := range strings.Split(n.Value, ",") {
					v.Set(reflect.Append(v, reflect.ValueOf(strings.TrimSpace(p))))
				}
				return
			}
			d.fail(n, "%s: want a list", path)
			return
		}
		for i, c := range n.Content {
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(c, e, fmt.Sprintf("%s[%d]", path, i))
			v.Set(reflect.Append(v, e))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, "%s: want a mapping", path)
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, c := n.Content[i], n.Content[i+1]
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(c, e, join(path, k.Value))
			v.SetMapIndex(reflect.ValueOf(k.Value), e)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, "%s: want a string", path)
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil || i < 0 {
			d.fail(n, "%s: %q is not a whole number", path, n.Value)
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			d.fail(n, "%s: %q is not true or false", path, n.Value)
			return
		}
		v.SetBool(b)
	default:
		d.fail(n, "%s: unsupported value", path)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decodeStruct decodes a mapping into a struct with yaml tags, refusing
// unknown keys and reporting missing required ones.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, "%s: want a mapping of fields", strings.TrimPrefix(path, "."))
		return
	}
	t := v.Type()
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, c := n.Content[i], n.Content[i+1]
		f, ok := fieldByTag(t, k.Value)
		if !ok {
			d.fail(k, "%s: unknown field %q (known: %s)", orTop(path), k.Value, strings.Join(tagNames(t), ", "))
			continue
		}
		if seen[k.Value] {
			d.fail(k, "%s: field %q given twice", orTop(path), k.Value)
			continue
		}
		seen[k.Value] = true
		d.at[join(path, k.Value)] = c
		fv := v.FieldByIndex(f.Index)
		d.decode(c, fv, join(path, k.Value))
		if enum := f.Tag.Get("enum"); enum != "" && fv.Kind() == reflect.String && fv.String() != "" {
			if !contains(strings.Split(enum, ","), fv.String()) {
				d.fail(c, "%s: %q is not one of %s", join(path, k.Value), fv.String(), strings.ReplaceAll(enum, ",", ", "))
			}
		}
	}
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if opts == "required" && !seen[name] {
			d.fail(n, "%s: missing required field %q", orTop(path), name)
		}
	}
}

func orTop(path string) string {
	if path == "" {
		return "scenario"
	}
	return path
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tagNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// decodeStep decodes a step: a mapping with exactly one key, its kind.
func (d *decoder) decodeStep(n *yaml.Node, s *Step, path string) {
	s.Line, s.Column = n.Line, n.Column
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		d.fail(n, "%s: a step is one kind with its fields, like `- sms: {from: \"+85291234567\", body: \"1\"}`", path)
		return
	}
	k, c := n.Content[0], n.Content[1]
	f, ok := fieldByTag(stepType, k.Value)
	if !ok {
		d.fail(k, "%s: unknown step kind %q (known: %s)", path, k.Value, strings.Join(tagNames(stepType), ", "))
		return
	}
	s.Kind = k.Value
	fv := reflect.ValueOf(s).Elem().FieldByIndex(f.Index)
	fv.Set(reflect.New(fv.Type().Elem()))
	if s.Kind == "wait" && c.Kind == yaml.ScalarNode {
		// `- wait: 5s` is short for `- wait: {for: 5s}`.
		d.decode(c, fv.Elem().Field(0), path+".wait")
		return
	}
	if c.Kind == yaml.ScalarNode && c.Tag == "!!null" {
		c = &yaml.Node{Kind: yaml.MappingNode, Line: c.Line, Column: c.Column}
	}
	d.decode(c, fv.Elem(), path+"."+k.Value)
}

// validPhone reports whether s is E.164 and a valid number.
func validPhone(s string) bool {
	if !e164.MatchString(s) {
		return false
	}
	pn, err := phonenumbers.Parse(s, "")
	return err == nil && phonenumbers.IsValidNumber(pn)
}

func parseAmount(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("more than two decimals")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 {
		return 0, fmt.Errorf("not an amount")
	}
	return w*100 + f, nil
}
