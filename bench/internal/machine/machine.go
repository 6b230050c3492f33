// Package machine describes the machine and source tree a benchmark ran
// on, for the header of BENCHMARKS.md.
package machine

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Info is what a reader needs to compare two benchmark reports.
type Info struct {
	CPUModel  string
	NumCPU    int
	Kernel    string
	GoVersion string
	Date      time.Time
	Commit    string
	LoadAvg   string // 1, 5 and 15 minute load averages when described
}

// Describe collects Info; repo is the git work tree. Missing pieces read
// "unknown (reason)" rather than failing the benchmark.
func Describe(repo string) Info {
	return Info{
		CPUModel:  cpuModel(),
		NumCPU:    runtime.NumCPU(),
		Kernel:    kernel(),
		GoVersion: runtime.Version(),
		Date:      time.Now().UTC(),
		Commit:    commit(repo),
		LoadAvg:   LoadAvg(),
	}
}

// LoadAvg returns the 1, 5 and 15 minute load averages. Other work on the
// machine skews every number in a report, so the report says how busy the
// machine was.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return fmt.Sprintf("unknown (/proc/loadavg is %q)", b)
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	defer f.Close()
	return ParseCPUModel(f)
}

// ParseCPUModel returns the first "model name" of a /proc/cpuinfo.
func ParseCPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown (no model name in /proc/cpuinfo)"
}

func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
}

// commit names HEAD, with "+dirty" when the work tree has changes, because
// a benchmark of uncommitted code must say so.
func commit(repo string) string {
	head, err := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	if err != nil {
		return "none (no git commit yet)"
	}
	c := strings.TrimSpace(string(head))
	status, err := exec.Command("git", "-C", repo, "status", "--porcelain").Output()
	if err == nil && len(strings.TrimSpace(string(status))) > 0 {
		c += "+dirty"
	}
	return c
}

// FileSHA256 returns the hex SHA-256 of a file, to identify the exact
// plugin binaries that were measured.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
