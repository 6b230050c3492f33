package oplog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/buildinfo"
)

// Entry is one line of the log: one verb of one plugin run.
type Entry struct {
	Time         string      `json:"time"`
	Plugin       string      `json:"plugin"`
	Version      string      `json:"version"`
	Commit       string      `json:"commit"`
	Verb         string      `json:"verb"`
	Network      string      `json:"network,omitempty"`
	ContainerID  string      `json:"containerID,omitempty"`
	PodNamespace string      `json:"podNamespace,omitempty"`
	PodName      string      `json:"podName,omitempty"`
	IfName       string      `json:"ifname,omitempty"`
	Steps        []StepEntry `json:"steps,omitempty"`
	Millis       float64     `json:"ms"`
	Result       string      `json:"result"`
	Code         uint        `json:"code,omitempty"`
	Error        string      `json:"error,omitempty"`
}

// StepEntry is one of ADD's named steps and how long it took.
type StepEntry struct {
	Step   string  `json:"step"`
	Millis float64 `json:"ms"`
	Failed bool    `json:"failed,omitempty"`
}

// Recorder logs the verbs of one plugin run. main creates one, passes
// Step to the plugin's steps.Runner as its observer and wraps the skel
// functions with Wrap.
type Recorder struct {
	// Plugin is the binary's name, e.g. "vethbridge".
	Plugin string
	// Stderr receives one line when the log cannot be written.
	Stderr io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	steps []StepEntry
}

// Step records one finished step; it is a steps.Observer.
func (r *Recorder) Step(name string, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, StepEntry{Step: name, Millis: millis(took), Failed: err != nil})
}

// Wrap returns funcs with each verb logged. A bad "log" key is a config
// error returned before the verb runs, so it changes nothing; a failure
// to write the log is reported on Stderr and never changes the verb's
// result.
func (r *Recorder) Wrap(funcs skel.CNIFuncs) skel.CNIFuncs {
	return skel.CNIFuncs{
		Add: r.wrap("ADD", funcs.Add), Del: r.wrap("DEL", funcs.Del), Check: r.wrap("CHECK", funcs.Check),
		GC: r.wrap("GC", funcs.GC), Status: r.wrap("STATUS", funcs.Status),
	}
}

func (r *Recorder) wrap(verb string, f func(*skel.CmdArgs) error) func(*skel.CmdArgs) error {
	if f == nil {
		return nil
	}
	return func(args *skel.CmdArgs) error {
		conf, err := ParseConfig(args.StdinData)
		if err != nil {
			return err
		}
		if !conf.Enabled() {
			return f(args)
		}
		start := r.now()
		verbErr := f(args)
		e := r.entry(verb, args, start, verbErr)
		if err := r.write(conf, e); err != nil && r.Stderr != nil {
			fmt.Fprintf(r.Stderr, "%s: operations log not written: %v\n", r.Plugin, err)
		}
		return verbErr
	}
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Recorder) entry(verb string, args *skel.CmdArgs, start time.Time, err error) Entry {
	info := buildinfo.Get()
	ns, pod := podOf(args.Args)
	r.mu.Lock()
	steps := append([]StepEntry(nil), r.steps...)
	r.mu.Unlock()
	e := Entry{
		Time: start.UTC().Format(time.RFC3339Nano), Plugin: r.Plugin, Version: info.Version, Commit: info.Commit,
		Verb: verb, Network: networkOf(args.StdinData), ContainerID: args.ContainerID,
		PodNamespace: ns, PodName: pod, IfName: args.IfName,
		Steps: steps, Millis: millis(r.now().Sub(start)), Result: "ok",
	}
	if err != nil {
		e.Result, e.Code, e.Error = "error", codeOf(err), err.Error()
	}
	return e
}

func (r *Recorder) write(c Config, e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return Append(c, append(line, '\n'))
}

// codeOf is the CNI error code skel prints for err: a *types.Error's own,
// otherwise 999 (skel's code for any other error).
func codeOf(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return types.ErrInternal
}

// podOf reads K8S_POD_NAMESPACE and K8S_POD_NAME from CNI_ARGS
// ("K=V;K=V"). The plugin validates CNI_ARGS itself; a malformed pair is
// skipped here, and the JSON encoding keeps any value on one line.
func podOf(cniArgs string) (namespace, name string) {
	for _, kv := range strings.Split(cniArgs, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "K8S_POD_NAMESPACE":
			namespace = v
		case "K8S_POD_NAME":
			name = v
		}
	}
	return namespace, name
}

func networkOf(conf []byte) string {
	var n struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(conf, &n) // the config parsed already in ParseConfig
	return n.Name
}

// millis is d in milliseconds with microsecond precision.
func millis(d time.Duration) float64 {
	return math.Round(float64(d.Microseconds())) / 1000
}
