package vm

import (
	"fmt"
	"strconv"
	"strings"
)

// Marker prefixes the guest prints on the serial console around the test
// run. The nonce, chosen by the host per run, keeps a test that happens to
// print a marker-like line from ending or faking the run.
const (
	startMarker = "NETSTEER-VM-START"
	exitMarker  = "NETSTEER-VM-EXIT"
)

// StartLine returns the line the guest prints just before running the test.
func StartLine(nonce string) string {
	return startMarker + " " + nonce
}

// ExitLine returns the line the guest prints after the test exits with code.
func ExitLine(nonce string, code int) string {
	return fmt.Sprintf("%s %s %d", exitMarker, nonce, code)
}

// Console follows the guest's serial output line by line: it holds back
// boot noise until the start marker, passes the test's output on, notes
// "--- SKIP" lines, and finds the exit marker with this run's nonce.
type Console struct {
	nonce   string
	started bool
	exited  bool
	code    int
	skipped bool
	boot    []string
}

// NewConsole returns a Console expecting markers with nonce.
func NewConsole(nonce string) *Console {
	return &Console{nonce: nonce}
}

// Line consumes one line of serial output (without its newline) and returns
// the text to forward to the test's stdout, if any. Carriage returns added
// by the guest's tty are dropped. Text on the line before the exit marker
// is forwarded, since the test's last line may lack a newline.
func (c *Console) Line(line string) (forward string, ok bool) {
	line = strings.TrimRight(line, "\r")
	switch {
	case c.exited:
		return "", false
	case !c.started:
		c.started = strings.Contains(line, StartLine(c.nonce))
		if !c.started {
			c.boot = append(c.boot, line)
		}
		return "", false
	}
	if before, code, ok := c.cutExit(line); ok {
		c.exited, c.code = true, code
		return before, before != ""
	}
	if strings.Contains(line, "--- SKIP") {
		c.skipped = true
	}
	return line, true
}

// cutExit reports whether line holds this run's exit marker, and returns
// the text before it and the exit code it carries.
func (c *Console) cutExit(line string) (before string, code int, ok bool) {
	before, rest, found := strings.Cut(line, exitMarker+" "+c.nonce+" ")
	if !found {
		return "", 0, false
	}
	code, err := strconv.Atoi(strings.TrimSpace(rest))
	if err != nil {
		return "", 0, false
	}
	return before, code, true
}

// Result reports the test's exit code, and whether the exit marker was seen.
func (c *Console) Result() (code int, exited bool) {
	return c.code, c.exited
}

// Started reports whether the start marker was seen.
func (c *Console) Started() bool {
	return c.started
}

// Skipped reports whether the test printed a "--- SKIP" line.
func (c *Console) Skipped() bool {
	return c.skipped
}

// BootLog returns the lines seen before the start marker (kernel messages,
// harness errors), to show when the run failed before the test started.
func (c *Console) BootLog() []string {
	return c.boot
}
