// Package oplog is the plugins' opt-in operations log: with a "log" key in
// the network config, every ADD, DEL, CHECK, STATUS and GC appends one JSON
// line to a file naming the verb, the attachment (container ID, pod
// namespace and name from CNI_ARGS, interface), how long each of ADD's
// steps took, and the result or the CNI error code. The file is capped in
// size by rotation. Logging is a side channel: a failure to log never
// fails the verb, and stderr stays the runtime's.
package oplog

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/netsteer/netsteer/pkg/cnierr"
)

// Key is the config key the plugins accept for the log.
const Key = "log"

// DefaultMaxBytes caps the file when "maxBytes" is absent: 10 MiB, with
// one rotated generation beside it.
const DefaultMaxBytes = 10 << 20

// MinMaxBytes is the smallest cap accepted: a few lines.
const MinMaxBytes = 4096

// Config is the validated "log" key. The zero Config logs nothing.
type Config struct {
	// File is the log's absolute path; empty disables the log.
	File string
	// MaxBytes is the size past which the file is rotated to File+".1".
	MaxBytes int64
}

// Enabled reports whether the config asks for a log.
func (c Config) Enabled() bool { return c.File != "" }

type fileConfig struct {
	File     string `json:"file"`
	MaxBytes *int64 `json:"maxBytes"`
}

// ParseConfig reads the "log" key of a plugin's network config. An absent
// or null key is the zero Config, and so is a document that is not a JSON
// object: the plugin reports that itself, with its own code. A bad value
// is a CNI error (code 7, or 2 for an unknown sub-key) naming the key, so
// a typo never silently turns the log off. It reads nothing but raw.
func ParseConfig(raw []byte) (Config, error) {
	var top struct {
		Log json.RawMessage `json:"log"`
	}
	if json.Unmarshal(raw, &top) != nil {
		return Config{}, nil
	}
	if len(top.Log) == 0 || bytes.Equal(bytes.TrimSpace(top.Log), []byte("null")) {
		return Config{}, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(top.Log, &keys); err != nil {
		return Config{}, cnierr.InvalidConfig(Key, string(top.Log), "must be an object {\"file\": ..., \"maxBytes\": ...}")
	}
	for k, v := range keys {
		if k != "file" && k != "maxBytes" {
			return Config{}, cnierr.Unsupported(Key+"."+k, string(v))
		}
	}
	var f fileConfig
	if err := json.Unmarshal(top.Log, &f); err != nil {
		return Config{}, cnierr.InvalidConfig(Key, string(top.Log), err.Error())
	}
	if err := ValidatePath(f.File); err != nil {
		return Config{}, err
	}
	c := Config{File: f.File, MaxBytes: DefaultMaxBytes}
	if f.MaxBytes != nil {
		if *f.MaxBytes < MinMaxBytes {
			return Config{}, cnierr.InvalidConfig(Key+".maxBytes", *f.MaxBytes, "must be at least 4096")
		}
		c.MaxBytes = *f.MaxBytes
	}
	return c, nil
}

// ValidatePath checks "log.file": an absolute, clean path (no "..", "."
// or repeated slashes) to a file, at most 1024 bytes, without control
// characters. Whether it is a regular file, not a link, is checked when
// it is opened.
func ValidatePath(p string) error {
	why := ""
	switch {
	case p == "":
		why = "required: the absolute path of the log file"
	case len(p) > 1024:
		why = "longer than 1024 bytes"
	case !filepath.IsAbs(p):
		why = "must be an absolute path"
	case filepath.Clean(p) != p || p == "/":
		why = "must be a clean path to a file (no \"..\", \".\", \"//\" or trailing \"/\")"
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		why = "must not contain control characters"
	}
	if why != "" {
		return cnierr.InvalidConfig(Key+".file", p, why)
	}
	return nil
}
