// Command fnlen reports how long the repository's functions are: the
// median, the count and the longest, measured from the line of `func` to
// the line of the closing brace, over the non-test Go files under the
// directories given (default: plugins, pkg, cmd, internal). STYLE.md asks
// for a median of about ten lines and a split past forty; this is the
// measurement behind those figures. Run from the repository root:
//
//	go run ./internal/fnlen [-top 15] [dir ...]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Func is one function or method and its length in lines.
type Func struct {
	Pos   string // file:line of `func`
	Name  string // Recv.Name for methods
	Lines int
}

func main() {
	top := flag.Int("top", 15, "how many of the longest functions to list")
	flag.Parse()
	dirs := flag.Args()
	if len(dirs) == 0 {
		dirs = []string{"plugins", "pkg", "cmd", "internal"}
	}
	funcs, err := measure(dirs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fnlen:", err)
		os.Exit(1)
	}
	report(os.Stdout, funcs, *top)
}

// measure parses every non-test Go file under dirs and returns its
// top-level function declarations, longest first.
func measure(dirs []string) ([]Func, error) {
	fset := token.NewFileSet()
	var funcs []Func
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isSource(path) {
				return err
			}
			found, err := fileFuncs(fset, path)
			funcs = append(funcs, found...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(funcs, func(a, b Func) int { return b.Lines - a.Lines })
	return funcs, nil
}

// isSource reports whether path is a Go file that is not a test.
func isSource(path string) bool {
	return strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")
}

// fileFuncs lists the function declarations with a body in one file.
func fileFuncs(fset *token.FileSet, path string) ([]Func, error) {
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []Func
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start, end := fset.Position(fn.Pos()), fset.Position(fn.End())
		out = append(out, Func{
			Pos:   fmt.Sprintf("%s:%d", path, start.Line),
			Name:  funcName(fn),
			Lines: end.Line - start.Line + 1,
		})
	}
	return out, nil
}

// funcName is Name, or Recv.Name for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if idx, ok := t.(*ast.IndexExpr); ok { // a generic receiver, T[E]
		t = idx.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// median of the lengths of funcs, which are sorted longest first.
func median(funcs []Func) float64 {
	n := len(funcs)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return float64(funcs[n/2].Lines)
	}
	return float64(funcs[n/2-1].Lines+funcs[n/2].Lines) / 2
}

// report prints the median, the count, how many pass forty lines and the
// top longest functions.
func report(w io.Writer, funcs []Func, top int) {
	fmt.Fprintf(w, "functions: %d  median: %.1f lines  over 40 lines: %d\n", len(funcs), median(funcs), longerThan(funcs, 40))
	for _, f := range funcs[:min(top, len(funcs))] {
		fmt.Fprintf(w, "%4d  %-36s %s\n", f.Lines, f.Name, f.Pos)
	}
}

// longerThan counts the functions of more than n lines.
func longerThan(funcs []Func, n int) int {
	count := 0
	for _, f := range funcs {
		if f.Lines > n {
			count++
		}
	}
	return count
}
