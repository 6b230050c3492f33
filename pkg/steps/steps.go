// Package steps runs a CNI ADD as a list of named, idempotent steps with a
// single rollback path: when a step fails, the plugin's DEL runs and both
// errors are returned. There are no per-resource defers keyed on a shared
// err variable, so a shadowed err can never silently skip the cleanup.
package steps

import (
	"cmp"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Step is one named unit of ADD. Do must be safe to run again after a
// crash or a partial run (ensure-style).
type Step struct {
	Name string
	Do   func() error
}

// StepError is the failure of one step; Step names it for the message and
// for tests that inject a failure at every step.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// RollbackError is the failure of the rollback that ran after a step
// failed: the attachment may be half-configured.
type RollbackError struct{ Err error }

func (e *RollbackError) Error() string { return "rollback: " + e.Err.Error() }
func (e *RollbackError) Unwrap() error { return e.Err }

// Run runs each step in order. When one fails it runs rollback (the DEL
// path) and returns the step's error joined with rollback's, if any.
func Run(list []Step, rollback func() error) error {
	return Runner{}.Run(list, rollback)
}

// Observer is told how long each top-level step took and how it ended,
// once the step returns; the rollback is reported as the step "rollback".
// A Runner calls it from the goroutine that runs the list, one step at a
// time.
type Observer func(step string, took time.Duration, err error)

// Runner runs step lists like Run and reports each step to Observe when
// it is set. The zero Runner is Run.
type Runner struct {
	Observe Observer
}

// Run is the package-level Run with r's observer.
func (r Runner) Run(list []Step, rollback func() error) error {
	for _, s := range list {
		if err := r.do(s.Name, s.Do); err != nil {
			stepErr := &StepError{Step: s.Name, Err: err}
			if rbErr := r.do("rollback", rollback); rbErr != nil {
				return errors.Join(stepErr, &RollbackError{Err: rbErr})
			}
			return stepErr
		}
	}
	return nil
}

func (r Runner) do(name string, f func() error) error {
	if r.Observe == nil {
		return f()
	}
	start := time.Now()
	err := f()
	r.Observe(name, time.Since(start), err)
	return err
}

// Sequence is one step made of several run in order; its error names the
// sub-step that failed.
func Sequence(name string, list ...Step) Step {
	return Step{Name: name, Do: func() error {
		for _, s := range list {
			if err := s.Do(); err != nil {
				return &StepError{Step: s.Name, Err: err}
			}
		}
		return nil
	}}
}

// Together is one step made of several that run at the same time, for
// work that does not depend on each other (creating links while IPAM
// allocates). It waits for all of them; its error joins each failure,
// named by its step.
func Together(name string, list ...Step) Step {
	return Step{Name: name, Do: func() error {
		named := make([]func() error, len(list))
		for i, s := range list {
			named[i] = func() error {
				if err := s.Do(); err != nil {
					return &StepError{Step: s.Name, Err: err}
				}
				return nil
			}
		}
		return errors.Join(runAll(named)...)
	}}
}

// FirstError runs checks at the same time and returns the error of the
// first one, in list order, that failed: the same answer as running them
// one after another and stopping at the first failure, in the time of the
// slowest. Only for checks that change nothing (ADD's refusals): all of
// them run even when an earlier one fails.
func FirstError(checks ...func() error) error {
	return cmp.Or(runAll(checks)...)
}

// runAll runs fns at the same time, waits for all of them and returns
// their errors in list order.
func runAll(fns []func() error) []error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	return errs
}

// Failed lists the names of the failed steps in err, outermost first, so
// "setup: veth: …" gives ["setup", "veth"].
func Failed(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if se, ok := e.(*StepError); ok {
			out = append(out, se.Step)
			walk(se.Err)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
