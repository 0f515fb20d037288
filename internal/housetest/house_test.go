// Package housetest guards the house rules that a reader of the whole tree can
// measure: function length and exported mutable package state. It walks every
// non-test, non-generated Go file of the module with go/ast.
package housetest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Limits from issue 19's "Done when".
const (
	maxLines     = 150 // no function longer than this
	longLines    = 80  // a function longer than this is long
	maxLongFuncs = 10  // at most this many long functions
)

// generated matches the marker `go generate` tools write (see `go help generate`).
var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// pending lists the functions over the limits that work in flight on issue 19
// shortens, keyed "file function", with who shortens them. They are
// tolerated, but only while they are still long: the tests fail on an entry
// whose function is gone or shorter than longLines, so the list only
// shrinks. When it is empty the limits hold as the issue states them.
var pending = map[string]string{}

type goFile struct {
	rel  string
	fset *token.FileSet
	file *ast.File
}

// moduleRoot finds the folder holding go.mod above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// sourceFiles parses every non-test, non-generated Go file of the module,
// skipping testdata, node_modules, vendor, out and hidden folders.
func sourceFiles(t *testing.T) []goFile {
	t.Helper()
	root := moduleRoot(t)
	var files []goFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor" || name == "out") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if generated.Match(src) {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, goFile{rel: filepath.ToSlash(rel), fset: fset, file: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found only %d Go files under %s: the walk is wrong", len(files), root)
	}
	return files
}

type longFunc struct {
	key   string // "file function", as pending is keyed
	where string // "file:line function"
	lines int
}

func (l longFunc) String() string {
	if owner, ok := pending[l.key]; ok {
		return fmt.Sprintf("%s (%d lines; pending: %s)", l.where, l.lines, owner)
	}
	return fmt.Sprintf("%s (%d lines)", l.where, l.lines)
}

// longFuncs lists the functions (and function literals at package level) over
// longLines lines, longest first, leaving out case tables.
func longFuncs(files []goFile) []longFunc {
	var out []longFunc
	for _, gf := range files {
		for _, decl := range gf.file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := gf.fset.Position(fn.Pos()).Line, gf.fset.Position(fn.End()).Line
			n := end - start + 1
			if n <= longLines || isCaseTable(fn) {
				continue
			}
			out = append(out, longFunc{key: gf.rel + " " + funcName(fn), where: fmt.Sprintf("%s:%d %s", gf.rel, start, funcName(fn)), lines: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].lines != out[j].lines {
			return out[i].lines > out[j].lines
		}
		return out[i].where < out[j].where
	})
	return out
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// isCaseTable reports whether fn's body is one return of a composite literal
// whose elements are all composite literals of a type named Case (a catalogue
// table written as data, as `func bearerCases() []Case { return []Case{...} }`).
func isCaseTable(fn *ast.FuncDecl) bool {
	if len(fn.Body.List) != 1 {
		return false
	}
	ret, ok := fn.Body.List[0].(*ast.ReturnStmt)
	if !ok || len(ret.Results) != 1 {
		return false
	}
	lit, ok := ret.Results[0].(*ast.CompositeLit)
	if !ok || len(lit.Elts) == 0 {
		return false
	}
	if arr, ok := lit.Type.(*ast.ArrayType); !ok || !isCaseType(arr.Elt) {
		return false
	}
	for _, e := range lit.Elts {
		c, ok := e.(*ast.CompositeLit)
		if !ok || (c.Type != nil && !isCaseType(c.Type)) {
			return false
		}
	}
	return true
}

func isCaseType(e ast.Expr) bool {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name == "Case"
	case *ast.SelectorExpr:
		return t.Sel.Name == "Case"
	}
	return false
}

// exportedMutable lists exported package-level variables whose type is a
// slice or a map (written as such, or as a composite literal of one): state a
// caller could change under every other caller.
func exportedMutable(files []goFile) []string {
	var out []string
	for _, gf := range files {
		for _, decl := range gf.file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() {
						continue
					}
					var value ast.Expr
					if i < len(vs.Values) {
						value = vs.Values[i]
					}
					if kind := mutableKind(vs.Type, value); kind != "" {
						out = append(out, fmt.Sprintf("%s:%d %s (%s)", gf.rel, gf.fset.Position(name.Pos()).Line, name.Name, kind))
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func mutableKind(typ, value ast.Expr) string {
	if k := typeKind(typ); k != "" {
		return k
	}
	switch v := value.(type) {
	case *ast.CompositeLit:
		return typeKind(v.Type)
	case *ast.CallExpr:
		if id, ok := v.Fun.(*ast.Ident); ok && id.Name == "make" && len(v.Args) > 0 {
			return typeKind(v.Args[0])
		}
	}
	return ""
}

func typeKind(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.ArrayType:
		if t.Len == nil {
			return "slice"
		}
	case *ast.MapType:
		return "map"
	}
	return ""
}

func TestNoFunctionOver150Lines(t *testing.T) {
	t.Parallel()
	var over []string
	for _, l := range longFuncs(sourceFiles(t)) {
		if _, ok := pending[l.key]; l.lines > maxLines && !ok {
			over = append(over, l.String())
		}
	}
	if len(over) > 0 {
		t.Errorf("%d functions over %d lines (split them; case tables of literal Case{} values are exempt):\n\t%s",
			len(over), maxLines, strings.Join(over, "\n\t"))
	}
}

func TestAtMostTenFunctionsOver80Lines(t *testing.T) {
	t.Parallel()
	long := longFuncs(sourceFiles(t))
	all := make([]string, len(long))
	counted := 0
	for i, l := range long {
		all[i] = l.String()
		if _, ok := pending[l.key]; !ok {
			counted++
		}
	}
	if counted > maxLongFuncs {
		t.Errorf("%d functions over %d lines besides the %d pending ones, at most %d allowed (case tables of literal Case{} values are exempt):\n\t%s",
			counted, longLines, len(long)-counted, maxLongFuncs, strings.Join(all, "\n\t"))
	}
}

// TestPendingIsCurrent keeps the pending list honest: an entry whose
// function is no longer long (or no longer there) must go.
func TestPendingIsCurrent(t *testing.T) {
	t.Parallel()
	long := map[string]bool{}
	for _, l := range longFuncs(sourceFiles(t)) {
		long[l.key] = true
	}
	var stale []string
	for key, owner := range pending {
		if !long[key] {
			stale = append(stale, key+" ("+owner+")")
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("remove these entries from pending: their functions are %d lines or fewer, or gone (moved? then list the new place if still long):\n\t%s",
			longLines, strings.Join(stale, "\n\t"))
	}
}

func TestNoExportedMutablePackageState(t *testing.T) {
	t.Parallel()
	if found := exportedMutable(sourceFiles(t)); len(found) > 0 {
		t.Errorf("%d exported package-level slices or maps (make each a function returning a copy, or unexport it):\n\t%s",
			len(found), strings.Join(found, "\n\t"))
	}
}

// The detectors themselves: each finds what it must and nothing else.
func TestDetectors(t *testing.T) {
	t.Parallel()
	src := `package p

var Exported = []string{"a"}
var ExportedMap = map[string]int{}
var ExportedMade = make(map[string]bool)
var ExportedTyped []int
var unexported = []string{"b"}
var ExportedArray = [2]int{1, 2}
var ExportedFunc = func() []string { return nil }

func table() []Case {
	return []Case{
		{ID: "A-001"},
		{ID: "A-002"},
	}
}

func notTable() []Case {
	x := 1
	return []Case{{ID: "A-003", N: x}}
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	files := []goFile{{rel: "p.go", fset: fset, file: f}}
	got := strings.Join(exportedMutable(files), "; ")
	want := "p.go:3 Exported (slice); p.go:4 ExportedMap (map); p.go:5 ExportedMade (map); p.go:6 ExportedTyped (slice)"
	if got != want {
		t.Errorf("exportedMutable:\n got %s\nwant %s", got, want)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok {
			if is := isCaseTable(fn); is != (fn.Name.Name == "table") {
				t.Errorf("isCaseTable(%s) = %v", fn.Name.Name, is)
			}
		}
	}
}
