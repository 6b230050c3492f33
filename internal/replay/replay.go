// Package replay drives a CNI plugin through ADD, DEL and CHECK in a
// random, seeded order over a few attachments and checks that it
// converges whatever the order: ADD succeeds exactly when the attachment
// is absent, CHECK passes after ADD and fails after DEL, DEL always
// succeeds, and after a final DEL of everything the attachments leave
// nothing behind. Both plugins' unit tests run it against their fake
// worlds; the seed is logged so a failing order can be replayed with
// NST_REPLAY_SEED.
package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
)

// Plugin is the plugin under test, wired to a fake world.
type Plugin struct {
	// Add, Check and Del are the plugin's verbs; Add prints its result on
	// stdout, as under skel.
	Add, Check, Del func(args *skel.CmdArgs) error
	// Conf is the network config every verb gets.
	Conf []byte
	// Args returns the CmdArgs of one attachment, with Conf as stdin.
	Args func(id string) *skel.CmdArgs
	// Serve tells the fake IPAM which attachment the next verb is for
	// (a real IPAM reads it from CNI_CONTAINERID and CNI_IFNAME).
	Serve func(id string)
	// Owned renders what attachments own in the fake world; it must read
	// as it did before the first ADD once everything is deleted.
	Owned func() string
}

// Seed is NST_REPLAY_SEED when set, else a fresh one.
func Seed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("NST_REPLAY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("NST_REPLAY_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// Run replays steps random verbs over ids with seed, then DELs every id.
func Run(t *testing.T, p Plugin, ids []string, steps int, seed uint64) {
	t.Helper()
	t.Logf("replay seed %d (rerun with NST_REPLAY_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	empty := p.Owned()
	r := &run{p: p, results: map[string][]byte{}, attached: map[string]bool{}, seen: map[string]int{}}
	for i := range steps {
		id := ids[rng.IntN(len(ids))]
		verb := [...]string{"ADD", "DEL", "CHECK"}[rng.IntN(3)]
		if err := r.step(verb, id); err != nil {
			t.Fatalf("step %d, %s %s (seed %d): %v\nworld:\n%s", i, verb, id, seed, err, p.Owned())
		}
	}
	for _, id := range ids {
		if err := r.step("DEL", id); err != nil {
			t.Fatalf("final DEL %s (seed %d): %v", id, seed, err)
		}
	}
	t.Logf("outcomes: %v", r.seen)
	if got := p.Owned(); got != empty {
		t.Fatalf("after DEL of every attachment (seed %d) the world holds:\n%s\nwant:\n%s", seed, got, empty)
	}
}

// run is the model: which attachments exist and their last ADD result.
type run struct {
	p        Plugin
	results  map[string][]byte // id → last ADD's result JSON
	attached map[string]bool
	seen     map[string]int // outcome → count, logged so a run shows what it covered
}

func (r *run) step(verb, id string) error {
	r.p.Serve(id)
	switch verb {
	case "ADD":
		return r.add(id)
	case "DEL":
		r.seen["DEL"]++
		r.attached[id] = false
		return r.p.Del(r.p.Args(id))
	default:
		return r.check(id)
	}
}

// add expects success exactly when id is absent; a refused ADD must
// leave the world as it was.
func (r *run) add(id string) error {
	before := r.p.Owned()
	out, err := captureStdout(func() error { return r.p.Add(r.p.Args(id)) })
	switch {
	case r.attached[id] && err == nil:
		return fmt.Errorf("ADD of an attached interface succeeded")
	case r.attached[id]:
		if after := r.p.Owned(); after != before {
			return fmt.Errorf("refused ADD (%v) changed the world:\n%s", err, after)
		}
		r.seen["ADD refused"]++
		return nil
	case err != nil:
		return fmt.Errorf("ADD: %w", err)
	}
	r.attached[id], r.results[id] = true, out
	r.seen["ADD"]++
	return nil
}

// check expects CHECK to pass while id is attached and to fail after its
// DEL; before any ADD there is no prevResult to check against.
func (r *run) check(id string) error {
	res, ok := r.results[id]
	if !ok {
		return nil
	}
	args := r.p.Args(id)
	var conf map[string]any
	if err := json.Unmarshal(r.p.Conf, &conf); err != nil {
		return err
	}
	conf["prevResult"] = json.RawMessage(res)
	args.StdinData, _ = json.Marshal(conf)
	err := r.p.Check(args)
	switch {
	case r.attached[id] && err != nil:
		return fmt.Errorf("CHECK after ADD: %w", err)
	case !r.attached[id] && err == nil:
		return fmt.Errorf("CHECK after DEL passed")
	case r.attached[id]:
		r.seen["CHECK passed"]++
	default:
		r.seen["CHECK failed after DEL"]++
	}
	return nil
}

// captureStdout runs f with os.Stdout sent to a temporary file and
// returns what f printed. Tests using it must not run in parallel.
func captureStdout(f func() error) ([]byte, error) {
	tmp, err := os.CreateTemp("", "nst-replay-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	saved := os.Stdout
	os.Stdout = tmp
	ferr := f()
	os.Stdout = saved
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(tmp)
	if err != nil {
		return nil, err
	}
	return out, ferr
}

// Rounds runs Run rounds times, each over a fresh world built by world,
// with the attachments c1, c2 and c3, 40 verbs and the next seed from
// Seed: what both plugins' replay tests do.
func Rounds(t *testing.T, rounds int, world func() Plugin) {
	t.Helper()
	seed := Seed(t)
	for round := range uint64(rounds) {
		Run(t, world(), []string{"c1", "c2", "c3"}, 40, seed+round)
	}
}
