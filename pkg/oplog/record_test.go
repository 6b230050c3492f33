package oplog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
)

func TestWrapLogsOneLinePerVerb(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.log")
	conf := `{"cniVersion":"1.0.0","name":"net1","type":"vethbridge","log":{"file":"` + path + `"}}`
	r := &Recorder{Plugin: "vethbridge"}
	funcs := r.Wrap(skel.CNIFuncs{
		Add: func(*skel.CmdArgs) error {
			r.Step("bridge", 1500*time.Microsecond, nil)
			r.Step("setup", 2*time.Millisecond, errors.New("no"))
			return types.NewError(101, "iptables failed", "")
		},
		Del: func(*skel.CmdArgs) error { return nil },
	})
	args := &skel.CmdArgs{
		ContainerID: "c1", IfName: "eth0", StdinData: []byte(conf),
		Args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0\nfake",
	}
	if err := funcs.Add(args); err == nil || err.(*types.Error).Code != 101 {
		t.Fatalf("ADD returned %v, want the verb's own error", err)
	}
	if err := funcs.Del(args); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("log has %d lines, want 2:\n%s", len(lines), raw)
	}
	var add Entry
	if err := json.Unmarshal([]byte(lines[0]), &add); err != nil {
		t.Fatal(err)
	}
	want := Entry{
		Time: add.Time, Plugin: "vethbridge", Version: add.Version, Commit: add.Commit, Verb: "ADD", Network: "net1",
		ContainerID: "c1", PodNamespace: "default", PodName: "web-0\nfake", IfName: "eth0",
		Steps:  []StepEntry{{Step: "bridge", Millis: 1.5}, {Step: "setup", Millis: 2, Failed: true}},
		Millis: add.Millis, Result: "error", Code: 101, Error: "iptables failed",
	}
	gotJSON, _ := json.Marshal(add)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("ADD line\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if add.Version == "" || add.Commit == "" {
		t.Errorf("ADD line lacks the build: %s", lines[0])
	}
	if !strings.Contains(lines[1], `"verb":"DEL"`) || !strings.Contains(lines[1], `"result":"ok"`) {
		t.Errorf("DEL line = %s", lines[1])
	}
}

func TestWrapNeverFailsTheVerbOverTheLog(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(dir, "missing-dir", "n.log"), filepath.Join(dir, "taken")} {
		var stderr bytes.Buffer
		r := &Recorder{Plugin: "ipvlan", Stderr: &stderr}
		ran := false
		add := r.Wrap(skel.CNIFuncs{Add: func(*skel.CmdArgs) error { ran = true; return nil }}).Add
		err := add(&skel.CmdArgs{StdinData: []byte(`{"name":"n","log":{"file":"` + file + `"}}`)})
		if err != nil || !ran {
			t.Errorf("log file %s: ADD returned %v (ran %v), want the verb's own nil", file, err, ran)
		}
		if !strings.Contains(stderr.String(), "operations log not written") {
			t.Errorf("log file %s: stderr = %q, want one line saying the log failed", file, stderr.String())
		}
	}
}

func TestWrapRefusesABadLogKeyBeforeTheVerb(t *testing.T) {
	r := &Recorder{Plugin: "vethbridge"}
	ran := false
	add := r.Wrap(skel.CNIFuncs{Add: func(*skel.CmdArgs) error { ran = true; return nil }}).Add
	err := add(&skel.CmdArgs{StdinData: []byte(`{"name":"n","log":{"file":"relative.log"}}`)})
	var te *types.Error
	if !errors.As(err, &te) || te.Code != 7 || ran {
		t.Errorf("ADD with a relative log file = %v (verb ran %v), want code 7 and nothing run", err, ran)
	}
}

func TestWrapWithoutLogKeyWritesNothing(t *testing.T) {
	var stderr bytes.Buffer
	r := &Recorder{Plugin: "vethbridge", Stderr: &stderr}
	add := r.Wrap(skel.CNIFuncs{Add: func(*skel.CmdArgs) error { return nil }}).Add
	if err := add(&skel.CmdArgs{StdinData: []byte(`{"name":"n"}`)}); err != nil || stderr.Len() != 0 {
		t.Errorf("ADD = %v, stderr %q", err, stderr.String())
	}
}
