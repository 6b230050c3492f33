package steps

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name       string
		failAt     string
		rollback   error
		wantRan    string
		wantErr    string
		wantRolled bool
	}{
		{name: "all succeed", wantRan: "a b c"},
		{name: "first fails", failAt: "a", wantRan: "a", wantErr: "a: boom", wantRolled: true},
		{name: "last fails", failAt: "c", wantRan: "a b c", wantErr: "c: boom", wantRolled: true},
		{name: "rollback fails too", failAt: "b", rollback: errors.New("stuck"), wantRan: "a b",
			wantErr: "b: boom\nrollback: stuck", wantRolled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			var list []Step
			for _, n := range []string{"a", "b", "c"} {
				list = append(list, Step{Name: n, Do: func() error {
					ran = append(ran, n)
					if n == tc.failAt {
						return boom
					}
					return nil
				}})
			}
			rolled := false
			err := Run(list, func() error { rolled = true; return tc.rollback })
			if got := strings.Join(ran, " "); got != tc.wantRan {
				t.Errorf("ran %q, want %q", got, tc.wantRan)
			}
			if rolled != tc.wantRolled {
				t.Errorf("rollback ran = %v, want %v", rolled, tc.wantRolled)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			var se *StepError
			if !errors.As(err, &se) || se.Step != tc.failAt || !errors.Is(err, boom) {
				t.Errorf("error %v does not carry step %q and cause", err, tc.failAt)
			}
		})
	}
}

func TestSequenceAndTogether(t *testing.T) {
	boom := errors.New("boom")
	ok := func(name string, ran *[]string, mu *sync.Mutex) Step {
		return Step{Name: name, Do: func() error { mu.Lock(); *ran = append(*ran, name); mu.Unlock(); return nil }}
	}
	var ran []string
	var mu sync.Mutex
	fail := Step{Name: "ipam", Do: func() error { return boom }}
	list := []Step{
		ok("bridge", &ran, &mu),
		Together("setup", Sequence("link", ok("veth", &ran, &mu), ok("rps", &ran, &mu)), fail),
		ok("addresses", &ran, &mu),
	}
	rolled := false
	err := Run(list, func() error { rolled = true; return nil })
	if got := Failed(err); strings.Join(got, "/") != "setup/ipam" {
		t.Errorf("Failed(%v) = %v, want setup/ipam", err, got)
	}
	if !rolled || !errors.Is(err, boom) {
		t.Errorf("rollback=%v err=%v", rolled, err)
	}
	// The other branch of Together still ran to the end; later steps did not.
	if got := strings.Join(ran, " "); got != "bridge veth rps" {
		t.Errorf("ran %q", got)
	}
	if got := Failed(Sequence("link", Step{Name: "rps", Do: func() error { return boom }}).Do()); strings.Join(got, "/") != "rps" {
		t.Errorf("Sequence failure names %v", got)
	}
}

func TestRunnerObservesEachStepAndRollback(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		failAt string
		want   string
	}{
		{name: "all succeed", want: "a:ok b:ok c:ok"},
		{name: "b fails", failAt: "b", want: "a:ok b:boom rollback:ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			r := Runner{Observe: func(step string, took time.Duration, err error) {
				if took < 0 {
					t.Errorf("step %s took %v", step, took)
				}
				res := "ok"
				if err != nil {
					res = err.Error()
				}
				seen = append(seen, step+":"+res)
			}}
			var list []Step
			for _, n := range []string{"a", "b", "c"} {
				list = append(list, Step{Name: n, Do: func() error {
					if n == tc.failAt {
						return boom
					}
					return nil
				}})
			}
			_ = r.Run(list, func() error { return nil })
			if got := strings.Join(seen, " "); got != tc.want {
				t.Errorf("observed %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFirstError: every check runs, and the answer is the error of the
// first failing check in list order, whichever finished first.
func TestFirstError(t *testing.T) {
	first, second := errors.New("first"), errors.New("second")
	var mu sync.Mutex
	ran := 0
	check := func(err error, wait chan struct{}) func() error {
		return func() error {
			if wait != nil {
				<-wait
			}
			mu.Lock()
			ran++
			mu.Unlock()
			return err
		}
	}
	release := make(chan struct{})
	slowFirst := check(first, release)
	fastSecond := func() error { defer close(release); return check(second, nil)() }
	if err := FirstError(check(nil, nil), slowFirst, fastSecond, check(nil, nil)); err != first {
		t.Errorf("FirstError = %v, want %v (the first failure in list order, though it finished last)", err, first)
	}
	if ran != 4 {
		t.Errorf("%d checks ran, want all 4", ran)
	}
	if err := FirstError(check(nil, nil), check(nil, nil)); err != nil {
		t.Errorf("FirstError of passing checks = %v, want nil", err)
	}
	if err := FirstError(); err != nil {
		t.Errorf("FirstError() = %v, want nil", err)
	}
}
