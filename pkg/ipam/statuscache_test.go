package ipam

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// cacheWorld is a StatusCache over a fakeIPAM, a fake clock and a binary
// identity the test can change.
type cacheWorld struct {
	ipam  *fakeIPAM
	now   time.Time
	bin   string
	cache StatusCache
}

func newCacheWorld(t *testing.T) *cacheWorld {
	w := &cacheWorld{ipam: &fakeIPAM{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), bin: "/opt/cni/bin/host-local 100 1"}
	w.cache = StatusCache{Exec: w.ipam, Dir: filepath.Join(t.TempDir(), "run"), TTL: 30 * time.Second,
		Binary: func(string) (string, error) { return w.bin, nil },
		Now:    func() time.Time { return w.now }}
	return w
}

// statusExecs is how many times the plugin's STATUS ran.
func (w *cacheWorld) statusExecs() int {
	n := 0
	for _, c := range w.ipam.calls {
		if c == "STATUS" {
			n++
		}
	}
	return n
}

const confA = `{"cniVersion":"1.1.0","name":"nst-a","type":"vethbridge","ipam":{"type":"host-local","subnet":"10.9.0.0/24"}}`

func TestStatusCacheRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		// between runs after a first, successful STATUS of confA and
		// before the second STATUS, which gets conf.
		between func(w *cacheWorld)
		conf    string
		// execs is how many times the plugin ran over both STATUS calls.
		execs int
	}{
		{"fresh success is reused", func(w *cacheWorld) { w.now = w.now.Add(29 * time.Second) }, confA, 1},
		{"success at TTL is stale", func(w *cacheWorld) { w.now = w.now.Add(30 * time.Second) }, confA, 2},
		{"clock stepped back", func(w *cacheWorld) { w.now = w.now.Add(-time.Second) }, confA, 2},
		{"config changed", func(*cacheWorld) {},
			`{"cniVersion":"1.1.0","name":"nst-a","type":"vethbridge","ipam":{"type":"host-local","subnet":"10.9.1.0/24"}}`, 2},
		{"another network", func(*cacheWorld) {},
			`{"cniVersion":"1.1.0","name":"nst-b","type":"vethbridge","ipam":{"type":"host-local","subnet":"10.9.0.0/24"}}`, 2},
		{"binary replaced", func(w *cacheWorld) { w.bin = "/opt/cni/bin/host-local 100 2" }, confA, 2},
		{"binary found elsewhere in CNI_PATH", func(w *cacheWorld) { w.bin = "/usr/lib/cni/host-local 100 1" }, confA, 2},
		{"ADD failed since", func(w *cacheWorld) {
			w.ipam.err = errors.New("no free address")
			_, _ = w.cache.Add("host-local", []byte(confA))
			w.ipam.err = nil
		}, confA, 2},
		{"ADD succeeded since", func(w *cacheWorld) { _, _ = w.cache.Add("host-local", []byte(confA)) }, confA, 1},
		{"record removed by the operator", func(w *cacheWorld) {
			entries, _ := os.ReadDir(w.cache.Dir)
			for _, e := range entries {
				os.Remove(filepath.Join(w.cache.Dir, e.Name()))
			}
		}, confA, 2},
		{"config names no network", func(*cacheWorld) {}, `{"ipam":{"type":"host-local"}}`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newCacheWorld(t)
			if err := w.cache.Status("host-local", []byte(confA)); err != nil {
				t.Fatal(err)
			}
			tc.between(w)
			if err := w.cache.Status("host-local", []byte(tc.conf)); err != nil {
				t.Fatal(err)
			}
			if got := w.statusExecs(); got != tc.execs {
				t.Errorf("IPAM STATUS ran %d times, want %d (calls %q)", got, tc.execs, w.ipam.calls)
			}
		})
	}
}

func TestStatusCacheNeverRecordsAFailure(t *testing.T) {
	w := newCacheWorld(t)
	w.ipam.err = errors.New("daemon not running")
	for range 3 {
		if err := w.cache.Status("host-local", []byte(confA)); !errors.Is(err, w.ipam.err) {
			t.Fatalf("Status = %v, want the plugin's error", err)
		}
	}
	if got := w.statusExecs(); got != 3 {
		t.Errorf("IPAM STATUS ran %d times for 3 failing calls, want 3", got)
	}
	w.ipam.err = nil
	if err := w.cache.Status("host-local", []byte(confA)); err != nil {
		t.Fatal(err)
	}
	if got := w.statusExecs(); got != 4 {
		t.Errorf("after a failure STATUS was answered from the cache: %d runs, want 4", got)
	}
}

func TestStatusCacheFailureDropsTheRecord(t *testing.T) {
	w := newCacheWorld(t)
	if err := w.cache.Status("host-local", []byte(confA)); err != nil {
		t.Fatal(err)
	}
	// The record went stale; the plugin now fails, and a later STATUS
	// (back within the old record's TTL on a stepped clock) must ask again.
	w.now = w.now.Add(time.Minute)
	w.ipam.err = errors.New("broken")
	if err := w.cache.Status("host-local", []byte(confA)); err == nil {
		t.Fatal("Status succeeded with a failing plugin")
	}
	entries, err := os.ReadDir(w.cache.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("records left after a failure: %v", entries)
	}
}

func TestStatusCacheWithoutABinaryAsksThePlugin(t *testing.T) {
	w := newCacheWorld(t)
	w.cache.Binary = func(string) (string, error) { return "", errors.New(`plugin "host-local" not found`) }
	w.ipam.err = errors.New(`plugin "host-local" not found`)
	if err := w.cache.Status("host-local", []byte(confA)); err == nil {
		t.Fatal("Status succeeded without the plugin")
	}
	if !slices.Equal(w.ipam.calls, []string{"STATUS"}) {
		t.Errorf("calls %q, want one STATUS", w.ipam.calls)
	}
}

func TestStatusCacheRecordIsOnlyOursToRead(t *testing.T) {
	w := newCacheWorld(t)
	if err := w.cache.Status("host-local", []byte(confA)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(w.cache.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("record dir mode %v, want 0700", st.Mode().Perm())
	}
}
