// Package cnierr builds the CNI error values our plugins return. Each
// constructor fixes the spec's error code for one kind of failure and names
// the offending key or variable in the message, so a runtime's log tells an
// operator what to change. Codes 100 and up are netsteer's own; they are
// listed in the README.
package cnierr

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/netsteer/netsteer/pkg/steps"
)

// netsteer's own codes (CNI reserves 100+ for plugins).
const (
	// Kernel is a netlink, sysfs or procfs operation the kernel refused.
	Kernel uint = 100
	// Netfilter is an iptables/ip6tables invocation that failed.
	Netfilter uint = 101
	// IPAM is a failure reported by, or while running, the delegated IPAM plugin.
	IPAM uint = 102
	// Rollback is an ADD failure whose cleanup (DEL) failed too; both are in the message.
	Rollback uint = 103
	// Collision is a derived name taken by an object that carries another
	// attachment's or network's identity; nothing of it was changed.
	Collision uint = 104
)

// IsCollision reports whether err is a Collided error.
func IsCollision(err error) bool { return codeOf(err) == Collision }

// Collided reports that the object called name, which carries identity
// have, is not want's although want's name derives to it (code 104).
func Collided(what, name, have, want string) *types.Error {
	return types.NewError(Collision,
		fmt.Sprintf("%s %s belongs to %q, not to %q: their derived names collide; it was left as it is", what, name, have, want),
		"delete the other one first, or rename one of the networks or attachments")
}

// Unsupported reports a config key netsteer does not implement (code 2).
func Unsupported(key string, value any) *types.Error {
	return types.NewError(types.ErrUnsupportedField,
		fmt.Sprintf("unsupported config key %q (value %s)", key, short(value)), "")
}

// InvalidConfig reports a config key whose value is wrong (code 7).
func InvalidConfig(key string, value any, why string) *types.Error {
	return types.NewError(types.ErrInvalidNetworkConfig,
		fmt.Sprintf("invalid config %q = %s: %s", key, short(value), why), "")
}

// InvalidEnv reports a bad CNI_* environment variable (code 4).
func InvalidEnv(name, value, why string) *types.Error {
	return types.NewError(types.ErrInvalidEnvironmentVariables,
		fmt.Sprintf("invalid %s=%q: %s", name, value, why), "")
}

// NotAvailable is a STATUS failure: an ADD would not work now (code 50).
func NotAvailable(why string) *types.Error {
	return types.NewError(types.ErrPluginNotAvailable, why, "")
}

// TryAgain is a transient failure the runtime should retry (code 11).
func TryAgain(err error) *types.Error {
	return types.NewError(types.ErrTryAgainLater, err.Error(), "")
}

// Wrap gives err a CNI code: the code of the first *types.Error in its
// tree, or code when there is none. The message is err's full text.
func Wrap(code uint, err error) *types.Error {
	if err == nil {
		return nil
	}
	var te *types.Error
	if errors.As(err, &te) {
		if te.Error() == err.Error() {
			return te
		}
		return types.NewError(te.Code, err.Error(), te.Details)
	}
	return types.NewError(code, err.Error(), "")
}

// short renders a config value for an error message, cut to keep messages readable.
func short(v any) string {
	s := fmt.Sprintf("%q", fmt.Sprint(v))
	if b, ok := v.([]byte); ok {
		s = fmt.Sprintf("%q", b)
	}
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// IPAMError gives a failure of the delegated IPAM plugin our code 102,
// whatever code the plugin printed: skel prints 999 for any plain error,
// which tells an operator nothing. Only 11 (try again later) is kept, as
// the runtime acts on it. The plugin's message is kept in ours.
func IPAMError(what string, err error) error {
	var te *types.Error
	if errors.As(err, &te) && te.Code == types.ErrTryAgainLater {
		return fmt.Errorf("%s: %w", what, err)
	}
	return types.NewError(IPAM, fmt.Sprintf("%s: %v", what, err), "")
}

// Outcome is the code policy both plugins apply to a failed verb: 103
// when ADD's rollback failed too (the attachment may be half-configured,
// whatever the first failure was); else the code of the first
// *types.Error in err (IPAM 102, netfilter 101, try again 11, …); else 100,
// a kernel operation. The message is err's full text.
// A nil err is a nil error (not a typed nil), so verbs return it directly.
func Outcome(err error) error {
	if err == nil {
		return nil
	}
	var rb *steps.RollbackError
	if errors.As(err, &rb) {
		// When the rollback failed with the step's own code (IPAM refusing
		// the same config twice), that code says what to fix; 103 is for a
		// cleanup that failed for another reason.
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			if errs := j.Unwrap(); len(errs) == 2 && codeOf(errs[0]) != 0 && codeOf(errs[0]) == codeOf(rb.Err) {
				return types.NewError(codeOf(errs[0]), err.Error(), "")
			}
		}
		return types.NewError(Rollback, err.Error(), "")
	}
	return Wrap(Kernel, err)
}

// codeOf is the code of the first *types.Error in err, or 0.
func codeOf(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}
