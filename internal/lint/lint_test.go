// Package lint holds repository-wide checks that run with `go test ./...`
// (and so in `make test`): rules the compiler and go vet cannot see.
package lint

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is two directories up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// goFiles lists the repository's Go files, skipping bin/ and hidden dirs.
func goFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dumps are the netlink calls that read a whole table with NLM_F_DUMP; the
// kernel interrupts them when the table changes (NLM_F_DUMP_INTR), which
// concurrent ADDs make common.
var dumps = map[string]bool{
	"LinkList": true, "AddrList": true, "RouteList": true, "RouteListFiltered": true,
	"NeighList": true, "NeighListExecute": true, "RuleList": true, "RuleListFiltered": true,
	"QdiscList": true, "ClassList": true, "FilterList": true, "BridgeVlanList": true,
	"LinkSubscribe": false,
}

// TestNetlinkDumpsGoThroughRetryDump: every netlink dump is made inside
// the function literal given to nlx.RetryDump, so none fails spuriously
// under concurrent ADDs (DESIGN.md §4).
func TestNetlinkDumpsGoThroughRetryDump(t *testing.T) {
	root := repoRoot(t)
	fset := token.NewFileSet()
	for _, path := range goFiles(t, root) {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			stack = append(stack, n)
			if name, ok := netlinkDump(n); ok && !insideRetryDump(stack) {
				rel, _ := filepath.Rel(root, fset.Position(n.Pos()).Filename)
				t.Errorf("%s:%d: netlink.%s outside nlx.RetryDump", rel, fset.Position(n.Pos()).Line, name)
			}
			return true
		})
	}
}

// netlinkDump reports whether n calls netlink.<dump> and which.
func netlinkDump(n ast.Node) (string, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return sel.Sel.Name, ok && pkg.Name == "netlink" && dumps[sel.Sel.Name]
}

// insideRetryDump reports whether the innermost function literal of stack
// is an argument of a call to RetryDump (nlx.RetryDump or, inside nlx,
// RetryDump).
func insideRetryDump(stack []ast.Node) bool {
	for i := len(stack) - 1; i > 0; i-- {
		if _, ok := stack[i].(*ast.FuncLit); !ok {
			continue
		}
		call, ok := stack[i-1].(*ast.CallExpr)
		if !ok {
			return false
		}
		switch fn := call.Fun.(type) {
		case *ast.Ident:
			return fn.Name == "RetryDump"
		case *ast.SelectorExpr:
			return fn.Sel.Name == "RetryDump"
		case *ast.IndexExpr: // RetryDump[T]
			if sel, ok := fn.X.(*ast.SelectorExpr); ok {
				return sel.Sel.Name == "RetryDump"
			}
		}
		return false
	}
	return false
}

var (
	ruleLine = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9_-]*):([^=]|$)`)
	helpLine = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]*:[^=#]*## \S`)
)

// TestEveryMakeTargetHasHelp: `make help` is generated from the "## "
// text after each target, so a target without one would be missing there.
func TestEveryMakeTargetHasHelp(t *testing.T) {
	root := repoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "mk", "*.mk"))
	for _, path := range append([]string{filepath.Join(root, "Makefile")}, files...) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			l := sc.Text()
			m := ruleLine.FindStringSubmatch(l)
			if m == nil || strings.HasPrefix(m[1], ".") || strings.Contains(l, ":=") {
				continue
			}
			if !helpLine.MatchString(l) {
				t.Errorf("%s:%d: target %s has no \"## description\" for make help", filepath.Base(path), line, m[1])
			}
		}
		f.Close()
	}
}
