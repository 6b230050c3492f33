package vm

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// QEMUArgs returns the arguments that boot vmlinuz with initrd on the
// serial console. TCG because KVM hangs on these hosts; -cpu max because
// the default model has no RDRAND and the first crypto/rand read stalls;
// quiet loglevel=0 keeps kernel messages out of the test output; panic=-1
// with -no-reboot turns a guest panic into QEMU exiting. Two vCPUs use
// multi-threaded TCG on the host's two cores: concurrency tests in the
// guest run about twice as fast, and the guest can run CPUs in parallel
// like a node does.
func QEMUArgs(vmlinuz, initrd string) []string {
	return []string{
		"-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "2",
		"-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
		"-serial", "stdio",
		"-kernel", vmlinuz, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=0 panic=-1",
	}
}

// Run describes one boot.
type Run struct {
	QEMU    string // qemu-system-x86_64
	Vmlinuz string
	Initrd  string
	Nonce   string
	Timeout time.Duration
	Stdout  io.Writer // the test's output goes here
	Stderr  io.Writer // QEMU's own errors and harness messages go here
}

// Outcome is how a boot ended.
type Outcome struct {
	Console     *Console
	TimedOut    bool
	Interrupted bool  // a signal made us kill QEMU
	QEMUErr     error // QEMU's exit status, if it failed
}

// Boot runs QEMU, forwards the test's output as it arrives, and returns
// once QEMU has exited. QEMU is killed by its PID on timeout, on SIGINT,
// SIGTERM or SIGPIPE to this process, and (Pdeathsig) when this process
// dies; only SIGKILL leaves the caller's scratch directory behind.
func Boot(r Run) (Outcome, error) {
	cmd := exec.Command(r.QEMU, QEMUArgs(r.Vmlinuz, r.Initrd)...)
	cmd.Stderr = r.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	serial, err := cmd.StdoutPipe()
	if err != nil {
		return Outcome{}, fmt.Errorf("starting qemu: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return Outcome{}, fmt.Errorf("starting qemu: %w", err)
	}
	k := newKiller(cmd.Process, r.Timeout)
	defer k.stop()
	con := NewConsole(r.Nonce)
	readErr := follow(serial, con, r.Stdout)
	waitErr := cmd.Wait()
	if readErr != nil {
		return Outcome{}, fmt.Errorf("reading qemu serial console: %w", readErr)
	}
	return Outcome{Console: con, TimedOut: closed(k.timed), Interrupted: closed(k.signalled), QEMUErr: waitErr}, nil
}

// follow feeds serial lines to con and forwards the test's lines to out.
func follow(serial io.Reader, con *Console, out io.Writer) error {
	br := bufio.NewReaderSize(serial, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if text, ok := con.Line(strings.TrimSuffix(line, "\n")); ok {
				fmt.Fprintln(out, text)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// killer kills a process after a timeout or on SIGINT/SIGTERM/SIGPIPE, and
// closes timed or signalled to say which.
type killer struct {
	timer     *time.Timer
	sigs      chan os.Signal
	done      chan struct{}
	timed     chan struct{}
	signalled chan struct{}
}

func newKiller(p *os.Process, timeout time.Duration) *killer {
	k := &killer{
		sigs: make(chan os.Signal, 1), done: make(chan struct{}),
		timed: make(chan struct{}), signalled: make(chan struct{}),
	}
	k.timer = time.AfterFunc(timeout, func() {
		close(k.timed)
		// Best effort: the process may have exited on its own just now.
		_ = p.Kill()
	})
	// SIGPIPE too: when go test stops reading, a write to stdout would
	// otherwise kill this process before it kills QEMU and cleans up.
	signal.Notify(k.sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGPIPE)
	go func() {
		select {
		case <-k.sigs:
			close(k.signalled)
			_ = p.Kill() // best effort, as above
		case <-k.done:
		}
	}()
	return k
}

func (k *killer) stop() {
	k.timer.Stop()
	signal.Stop(k.sigs)
	close(k.done)
}

// closed reports whether ch is closed.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
