package steps

import (
	"errors"
	"strings"
	"testing"
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
