package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// cacheEntry is one attachment in the runtime's result cache, as libcni
// writes it (results/<network>-<container>-<ifname>, kind "cniCacheV1").
type cacheEntry struct {
	Network, ContainerID, IfName, Netns string
	PodNamespace, PodName               string
	Addresses                           []string
	Plugin                              pluginConf
}

// pluginConf is what inspect needs of our plugin's entry in a conflist.
type pluginConf struct {
	Type   string `json:"type"`
	Bridge string `json:"bridge"`
	IPMasq bool   `json:"ipMasq"`
	// Backend is ipMasqBackend: "iptables", "nftables" or "" (auto).
	Backend string `json:"ipMasqBackend"`
	IPAM    struct {
		Type    string `json:"type"`
		DataDir string `json:"dataDir"`
	} `json:"ipam"`
}

type cacheFile struct {
	Kind        string      `json:"kind"`
	ContainerID string      `json:"containerId"`
	Config      []byte      `json:"config"`
	IfName      string      `json:"ifName"`
	NetworkName string      `json:"networkName"`
	Netns       string      `json:"netns"`
	CniArgs     [][2]string `json:"cniArgs"`
	Result      struct {
		IPs []struct {
			Address string `json:"address"`
		} `json:"ips"`
	} `json:"result"`
}

// maxCacheFile bounds what inspect reads of one cache file; libcni's are
// a few KiB.
const maxCacheFile = 1 << 20

// readCache lists the cached attachments whose network has one of our
// plugins. A missing dir is an empty cache (no pod ever ran); unreadable
// or foreign files are skipped.
func readCache(dir string) ([]cacheEntry, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the runtime's result cache: %w", err)
	}
	var out []cacheEntry
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if c, ok := readCacheFile(filepath.Join(dir, e.Name())); ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func readCacheFile(path string) (cacheEntry, bool) {
	b, err := readSmall(path, maxCacheFile)
	if err != nil {
		return cacheEntry{}, false
	}
	var f cacheFile
	if json.Unmarshal(b, &f) != nil || f.Kind != "cniCacheV1" || f.NetworkName == "" || f.ContainerID == "" || f.IfName == "" {
		return cacheEntry{}, false
	}
	p, ok := ourPlugin(f.Config)
	if !ok {
		return cacheEntry{}, false
	}
	c := cacheEntry{Network: f.NetworkName, ContainerID: f.ContainerID, IfName: f.IfName, Netns: f.Netns, Plugin: p}
	for _, kv := range f.CniArgs {
		switch kv[0] {
		case "K8S_POD_NAMESPACE":
			c.PodNamespace = kv[1]
		case "K8S_POD_NAME":
			c.PodName = kv[1]
		}
	}
	for _, ip := range f.Result.IPs {
		c.Addresses = append(c.Addresses, ip.Address)
	}
	return c, true
}

// ourPlugin finds the vethbridge or ipvlan entry of a cached config: a
// conflist ("plugins") or a single config.
func ourPlugin(conf []byte) (pluginConf, bool) {
	var list struct {
		pluginConf
		Plugins []pluginConf `json:"plugins"`
	}
	if json.Unmarshal(conf, &list) != nil {
		return pluginConf{}, false
	}
	for _, p := range append(list.Plugins, list.pluginConf) {
		if p.Type == Vethbridge || p.Type == IPvlan {
			if p.Type == Vethbridge && p.Bridge == "" {
				p.Bridge = "cni0" // vethbridge's default, as upstream bridge's
			}
			return p, true
		}
	}
	return pluginConf{}, false
}

// networkInfo is one of our networks as the cache and the kernel show it.
type networkInfo struct {
	Name, Plugin, Bridge string
	IPMasq               bool
	Backend              string
	IPAMType, DataDir    string
}

// networksOf lists our networks, from the cache first (it has the
// config), then from host veths the cache does not know.
func networksOf(cached []cacheEntry, veths []hostVeth) []networkInfo {
	seen := map[string]networkInfo{}
	for _, c := range cached {
		if _, ok := seen[c.Network]; !ok {
			seen[c.Network] = networkInfo{Name: c.Network, Plugin: c.Plugin.Type, Bridge: c.Plugin.Bridge,
				IPMasq: c.Plugin.IPMasq, Backend: c.Plugin.Backend, IPAMType: c.Plugin.IPAM.Type, DataDir: c.Plugin.IPAM.DataDir}
		}
	}
	for _, v := range veths {
		if _, ok := seen[v.Network]; !ok {
			// Without a cached config, host-local in its default store is
			// the best guess, as it is for the plugins' own GC.
			seen[v.Network] = networkInfo{Name: v.Network, Plugin: Vethbridge, Bridge: v.Master, IPAMType: "host-local"}
		}
	}
	out := make([]networkInfo, 0, len(seen))
	for _, nw := range seen {
		out = append(out, nw)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// readSmall reads a regular file of at most max bytes without following
// a symlink at its last component. (sysfs reports a page as every
// attribute's size, so the size is what is read, not what stat says.)
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscallNoFollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}
