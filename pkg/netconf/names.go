package netconf

import (
	"fmt"
	"strings"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// reservedLinkNames are names a link may not be given in config or
// CNI_IFNAME although the kernel would accept them: they already mean
// something else where the name ends up. "all" and "default" are entries of
// /proc/sys/net/ipv{4,6}/conf and neigh, so a sysctl key naming the link
// would address every interface instead; "lo" is the loopback device of
// every namespace, never a bridge, master or pod interface of ours;
// "bonding_masters" is a file in /sys/class/net.
var reservedLinkNames = []string{"all", "default", "lo", "bonding_masters"}

// LinkNameProblem returns why name cannot be a link name netsteer puts into
// the kernel, an iptables rule or a sysfs/procfs path, or "" when it can.
//
// A link name must be a literal in a safe alphabet: 1..15 bytes of ASCII
// letters, digits, '_', '-' and '.', starting with a letter or digit, with
// no "..", and not a reserved name (see reservedLinkNames). Everything
// outside that alphabet is refused because some consumer gives it a
// meaning: iptables reads a trailing '+' as a wildcard ("+" alone is any
// interface), the kernel expands "%d" to the first free number, '/' and
// ':' separate path elements and aliases, and ".." walks up a path.
func LinkNameProblem(name string) string {
	switch {
	case name == "":
		return "empty interface name"
	case len(name) > 15:
		return "interface names are at most 15 bytes"
	case !isLetterOrDigit(name[0]):
		return "interface names must start with a letter or digit"
	case strings.Contains(name, ".."):
		return `interface names must not contain ".."`
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isLetterOrDigit(c) && c != '_' && c != '-' && c != '.' {
			return fmt.Sprintf("character %q is not allowed: interface names are letters, digits, '_', '-' and '.' (iptables and the kernel give others a meaning)", c)
		}
	}
	for _, r := range reservedLinkNames {
		if name == r {
			return fmt.Sprintf("%q is reserved: it already names something else in the kernel's /proc/sys or /sys trees", name)
		}
	}
	return ""
}

// ValidateLinkName checks a link name given in config key (the bridge, the
// master) with LinkNameProblem; code 7 naming key and value.
func ValidateLinkName(key, name string) error {
	if why := LinkNameProblem(name); why != "" {
		return cnierr.InvalidConfig(key, name, why)
	}
	return nil
}

// ValidateNewIfName checks CNI_IFNAME for ADD with LinkNameProblem (code 4
// naming the variable and value), so a name that would fail in a later
// step is refused before the first side effect. DEL and GC keep the looser
// ValidateEnvIfName: they must release what an older version's ADD made.
func ValidateNewIfName(ifname string) error {
	if why := LinkNameProblem(ifname); why != "" {
		return cnierr.InvalidEnv("CNI_IFNAME", ifname, why)
	}
	return nil
}

func isLetterOrDigit(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
