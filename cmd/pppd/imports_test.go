package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// deps lists every package pkg imports, directly or not.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	list := strings.Fields(string(out))
	if len(list) < 5 {
		t.Fatalf("go list named only %d packages for %s: %s", len(list), pkg, out)
	}
	return list
}

// within reports whether p is root or below it.
func within(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }

// The house's import rules. The server talks to the simulated world only
// over HTTP, as to Twilio: it imports nothing of it, so a server crash
// leaves the world running. The channels (sms, ivr, push) import neither
// each other, nor the device link, nor the world; the conversation
// (workflows) imports no channel and no device link; the device link
// imports none of them. The conversation engine (workflows/engine) imports
// nothing of the house at all: it is the pure Step its callers drive.
func TestImportRules(t *testing.T) {
	rules := []struct {
		pkg    string
		banned []string
	}{
		{"ppprenew/cmd/pppd", []string{"ppprenew/sim"}},
		{"ppprenew/sms", []string{"ppprenew/ivr", "ppprenew/push", "ppprenew/devicelink", "ppprenew/sim"}},
		{"ppprenew/ivr", []string{"ppprenew/sms", "ppprenew/push", "ppprenew/devicelink", "ppprenew/sim"}},
		{"ppprenew/push", []string{"ppprenew/sms", "ppprenew/ivr", "ppprenew/devicelink", "ppprenew/sim"}},
		{"ppprenew/workflows", []string{"ppprenew/sms", "ppprenew/ivr", "ppprenew/push", "ppprenew/devicelink", "ppprenew/sim"}},
		{"ppprenew/devicelink", []string{"ppprenew/sms", "ppprenew/ivr", "ppprenew/push", "ppprenew/workflows", "ppprenew/sim"}},
		{"ppprenew/workflows/engine", []string{"ppprenew"}},
	}
	for _, pkg := range []string{"ppprenew/sms", "ppprenew/ivr", "ppprenew/push"} {
		for _, use := range uses(t, pkg, "ppprenew/workflows") {
			switch use.name {
			case "Runner", "Store", "NewStore", "Registry", "NewRegistry":
				t.Errorf("%s: %s uses workflows.%s; channels go through workflows.Conversations or workflows.Texts", use.pos, pkg, use.name)
			}
		}
	}
	for _, r := range rules {
		for _, p := range deps(t, r.pkg) {
			if p == r.pkg {
				continue
			}
			for _, b := range r.banned {
				if within(p, b) {
					t.Errorf("%s imports %s", r.pkg, p)
				}
			}
		}
	}
}

// use is one name of an imported package used in a package's code.
type use struct {
	pos  string
	name string
}

// uses lists the names of package imp that the (non-test) code of pkg uses.
func uses(t *testing.T, pkg, imp string) []use {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}{{range .GoFiles}} {{.}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		t.Fatalf("go list named no files of %s: %s", pkg, out)
	}
	var found []use
	fset := token.NewFileSet()
	for _, name := range fields[1:] {
		f, err := parser.ParseFile(fset, filepath.Join(fields[0], name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		local := ""
		for _, is := range f.Imports {
			if path, _ := strconv.Unquote(is.Path.Value); path == imp {
				local = imp[strings.LastIndex(imp, "/")+1:]
				if is.Name != nil {
					local = is.Name.Name
				}
			}
		}
		if local == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == local {
					found = append(found, use{pos: fset.Position(sel.Pos()).String(), name: sel.Sel.Name})
				}
			}
			return true
		})
	}
	return found
}
