// Package steps runs a CNI ADD as a list of named, idempotent steps with a
// single rollback path: when a step fails, the plugin's DEL runs and both
// errors are returned. There are no per-resource defers keyed on a shared
// err variable, so a shadowed err can never silently skip the cleanup.
package steps

import (
	"errors"
	"fmt"
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

// Run runs each step in order. When one fails it runs rollback (the DEL
// path) and returns the step's error joined with rollback's, if any.
func Run(list []Step, rollback func() error) error {
	for _, s := range list {
		if err := s.Do(); err != nil {
			stepErr := &StepError{Step: s.Name, Err: err}
			if rbErr := rollback(); rbErr != nil {
				return errors.Join(stepErr, fmt.Errorf("rollback: %w", rbErr))
			}
			return stepErr
		}
	}
	return nil
}
