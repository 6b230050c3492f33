package ipam

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/netsteer/netsteer/pkg/runmark"

	current "github.com/containernetworking/cni/pkg/types/100"
)

// StatusTTL is how long a successful IPAM STATUS stands for the next ones
// of the same network, config and IPAM binary. containerd 2 runs STATUS
// on every CRI status poll (about every 5 s); a success of the last 30 s
// spares most of those polls the IPAM plugin's exec, while an IPAM that
// breaks is reported within 30 s, or at once after an ADD it failed.
const StatusTTL = 30 * time.Second

// StatusCache is an Exec whose Status reuses a success of the last TTL.
// Its record is one file per network in Dir holding a digest of the
// plugin's name, its binary (Binary's answer: path, size, modification
// time) and the config as the runtime sent it, so a changed config or a
// replaced binary asks the plugin again. The file's modification time is
// when the success was seen. A failure is never recorded, and a failed
// STATUS or ADD of the network removes its record: the next STATUS asks
// the plugin. Every other method goes to Exec unchanged.
type StatusCache struct {
	Exec
	// Dir holds the records (a directory on tmpfs only root can write,
	// so a reboot empties it).
	Dir string
	TTL time.Duration
	// Binary identifies the plugin's binary; it fails when the plugin
	// cannot be found, and then Status asks the plugin (which fails too).
	Binary func(plugin string) (string, error)
	Now    func() time.Time
}

var _ Exec = StatusCache{}

// NodeStatusCache is the StatusCache both plugins run with: records in
// /run/netsteer for StatusTTL.
func NodeStatusCache(e Exec, binary func(plugin string) (string, error)) StatusCache {
	return StatusCache{Exec: e, Dir: "/run/netsteer", TTL: StatusTTL, Binary: binary, Now: time.Now}
}

// Status returns nil without running the plugin when a success with the
// same key was recorded less than TTL ago; otherwise it runs the plugin
// and records a success.
func (c StatusCache) Status(plugin string, conf []byte) error {
	record, key, ok := c.key(plugin, conf)
	if !ok {
		return c.Exec.Status(plugin, conf)
	}
	if c.fresh(record, key) {
		return nil
	}
	if err := c.Exec.Status(plugin, conf); err != nil {
		c.forget(record)
		return err
	}
	c.remember(record, key)
	return nil
}

// Add runs the plugin's ADD; a failure drops the network's record, since
// whatever made it fail may be what STATUS should report.
func (c StatusCache) Add(plugin string, conf []byte) (*current.Result, error) {
	res, err := c.Exec.Add(plugin, conf)
	if err != nil {
		if record, _, ok := c.key(plugin, conf); ok {
			c.forget(record)
		}
	}
	return res, err
}

// key is the network's record file and the digest a fresh record holds.
// ok is false when the config names no network or the binary is not
// found: nothing is cached then.
func (c StatusCache) key(plugin string, conf []byte) (record, digest string, ok bool) {
	var net struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(conf, &net) != nil || net.Name == "" || c.Dir == "" {
		return "", "", false
	}
	bin, err := c.Binary(plugin)
	if err != nil {
		return "", "", false
	}
	record = filepath.Join(c.Dir, "ipam-status-"+sum([]byte(net.Name))[:16])
	return record, sum([]byte(plugin), []byte(bin), conf), true
}

func (c StatusCache) fresh(record, digest string) bool {
	st, err := os.Stat(record)
	if err != nil {
		return false
	}
	age := c.Now().Sub(st.ModTime())
	if age < 0 || age >= c.TTL {
		return false // a clock stepped back proves nothing either
	}
	got, err := os.ReadFile(record)
	return err == nil && string(got) == digest
}

// remember records a success. Best effort: without the record the next
// STATUS runs the plugin again. The record is written aside and renamed,
// so a concurrent STATUS reads the old record or the new one, whole.
func (c StatusCache) remember(record, digest string) {
	if os.MkdirAll(c.Dir, 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(c.Dir, ".ipam-status-*")
	if err != nil {
		return
	}
	_, werr := tmp.WriteString(digest)
	cerr := tmp.Close()
	now := c.Now()
	if werr != nil || cerr != nil || os.Chtimes(tmp.Name(), now, now) != nil || os.Rename(tmp.Name(), record) != nil {
		_ = os.Remove(tmp.Name()) // best effort, as above
	}
	// Records of networks that are gone, and temp files of a killed
	// STATUS, are stale by now: drop them while we are here.
	runmark.Prune(c.Dir, "ipam-status-", c.TTL, now)
	runmark.Prune(c.Dir, ".ipam-status-", c.TTL, now)
}

// forget removes a record. A record that cannot be removed is reported on
// the next STATUS only through its age: say so rather than ignore it.
func (c StatusCache) forget(record string) {
	if err := os.Remove(record); err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "removing IPAM STATUS record %s: %v\n", record, err)
	}
}

func sum(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
