package podroutes

import (
	"errors"
	"fmt"
)

// Table is the node's routing state as the agent sees it.
type Table interface {
	// Addrs returns every address configured on the node.
	Addrs() ([]HostAddr, error)
	// Routes returns every route of the main table, of any protocol.
	Routes() ([]Route, error)
	// Replace installs r, replacing a route to the same destination.
	Replace(r Route) error
	// Delete removes r, only if it carries r.Proto; an absent route is
	// success.
	Delete(r Route) error
}

// Reconciler makes the routes of protocol Proto in a Table match a plan.
type Reconciler struct {
	Table Table
	Node  string // our own Node's name
	Proto int
}

// Result is what one reconcile did.
type Result struct {
	Installed int    // routes of ours in the table that match the plan
	Skips     []Skip // pod CIDRs refused, by Plan or because a foreign route holds them
}

// Reconcile makes our routes match what nodes ask for: routes of ours that
// the plan does not hold are deleted, planned routes missing or different are
// replaced. A destination held by a route that is not ours is left alone and
// reported as a skip. It carries on past a failing route and returns every
// error joined.
func (r *Reconciler) Reconcile(nodes []Node) (Result, error) {
	addrs, err := r.Table.Addrs()
	if err != nil {
		return Result{}, fmt.Errorf("listing node addresses: %w", err)
	}
	have, err := r.Table.Routes()
	if err != nil {
		return Result{}, fmt.Errorf("listing routes: %w", err)
	}
	want, skips := Plan(Host{Node: r.Node, Addrs: addrs, Proto: r.Proto}, nodes)
	want, foreign := r.withoutForeign(want, have)
	res := Result{Skips: append(skips, foreign...)}
	errs := r.deleteStale(have, want)
	for _, w := range want {
		if err := r.ensure(w, have); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Installed++
	}
	return res, errors.Join(errs...)
}

// Clean deletes every route of ours, for an agent switched off.
func (r *Reconciler) Clean() error {
	have, err := r.Table.Routes()
	if err != nil {
		return fmt.Errorf("listing routes: %w", err)
	}
	return errors.Join(r.deleteStale(have, nil)...)
}

// withoutForeign drops planned routes whose destination a route of another
// protocol holds: replacing it would overwrite an operator's route.
func (r *Reconciler) withoutForeign(want, have []Route) ([]Route, []Skip) {
	var keep []Route
	var skips []Skip
	for _, w := range want {
		if h, ok := find(have, w); ok && h.Proto != r.Proto {
			skips = append(skips, Skip{CIDR: w.Dst.String(), Reason: fmt.Sprintf("a route that is not ours holds it (%s)", h)})
			continue
		}
		keep = append(keep, w)
	}
	return keep, skips
}

// deleteStale deletes our routes whose destination the plan does not hold.
// A route the plan holds with another gateway is left to ensure, which
// replaces it in one step.
func (r *Reconciler) deleteStale(have, want []Route) []error {
	var errs []error
	for _, h := range have {
		if h.Proto != r.Proto {
			continue
		}
		if _, ok := find(want, h); ok {
			continue
		}
		if err := r.Table.Delete(h); err != nil {
			errs = append(errs, fmt.Errorf("deleting route %s: %w", h, err))
		}
	}
	return errs
}

// ensure replaces w unless the table already holds exactly w.
func (r *Reconciler) ensure(w Route, have []Route) error {
	if h, ok := find(have, w); ok && h == w {
		return nil
	}
	if err := r.Table.Replace(w); err != nil {
		return fmt.Errorf("replacing route %s: %w", w, err)
	}
	return nil
}

// find returns the route in rs to the same destination as r.
func find(rs []Route, r Route) (Route, bool) {
	for _, x := range rs {
		if x.Dst == r.Dst {
			return x, true
		}
	}
	return Route{}, false
}
