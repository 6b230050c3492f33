// Package pause packs a single static binary as an OCI image layout tar, the
// format `ctr images import` reads. The containerd end-to-end test needs a
// sandbox ("pause") image and these machines reach no registry, so the image is
// built offline from our own blocking binary (cmd/nst-pause). The output is
// reproducible: the same input gives the same bytes and therefore the same
// digests, so re-importing an unchanged image is a no-op for containerd.
package pause

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Media types and annotations of the OCI image spec v1 that the layout uses.
const (
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"

	// AnnotationRefName is the OCI tag annotation.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationImageName is containerd's full image name annotation; ctr
	// import takes the image name from it without needing --base-name.
	AnnotationImageName = "io.containerd.image.name"
)

// Image describes a one-layer image that holds a single executable.
type Image struct {
	// Name is the full reference containerd registers, e.g.
	// "localhost/netsteer/pause:e2e". It must carry a tag.
	Name string
	// Binary is the executable's content.
	Binary []byte
	// Path is where the executable lives in the image, e.g. "/pause".
	Path string
	// Entrypoint is the process the runtime starts; usually []string{Path}.
	Entrypoint []string
	// OS and Architecture name the platform, e.g. "linux" and "amd64".
	OS, Architecture string
	// Extra are further executables packed into the same layer, for images
	// that ship more than their entrypoint (the netsteer installer image
	// carries the CNI binaries it installs).
	Extra []File
}

// File is one more executable of an Image.
type File struct {
	Path string // clean absolute path inside the image
	Data []byte
}

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *Platform         `json:"platform,omitempty"`
}

// Platform is the OCI platform of a manifest.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// Index is the OCI image index (index.json).
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []Descriptor `json:"manifests"`
}

// Manifest is the OCI image manifest.
type Manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

// Config is the subset of the OCI image config a runtime needs.
type Config struct {
	Architecture string        `json:"architecture"`
	OS           string        `json:"os"`
	Config       ProcessConfig `json:"config"`
	RootFS       RootFS        `json:"rootfs"`
}

// ProcessConfig is the execution part of the image config.
type ProcessConfig struct {
	Entrypoint []string `json:"Entrypoint"`
	WorkingDir string   `json:"WorkingDir"`
}

// RootFS lists the uncompressed layer digests (diff IDs).
type RootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// epoch is the timestamp of every tar entry; a fixed value keeps the output
// reproducible.
var epoch = time.Unix(0, 0).UTC()

// Validate reports the first field that makes img unpackable.
func (img Image) Validate() error {
	switch {
	case img.Name == "":
		return errors.New("image name is empty")
	case !hasTag(img.Name):
		return fmt.Errorf("image name %q has no tag", img.Name)
	case len(img.Binary) == 0:
		return errors.New("image binary is empty")
	case !path.IsAbs(img.Path) || path.Clean(img.Path) != img.Path || img.Path == "/":
		return fmt.Errorf("binary path %q is not a clean absolute file path", img.Path)
	case len(img.Entrypoint) == 0 || img.Entrypoint[0] == "":
		return errors.New("entrypoint is empty")
	case img.OS == "" || img.Architecture == "":
		return fmt.Errorf("platform %q/%q is incomplete", img.OS, img.Architecture)
	}
	seen := map[string]bool{img.Path: true}
	for _, f := range img.Extra {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return fmt.Errorf("extra file path %q is not a clean absolute file path", f.Path)
		}
		if seen[f.Path] {
			return fmt.Errorf("file %q is packed twice", f.Path)
		}
		seen[f.Path] = true
	}
	return nil
}

// hasTag reports whether ref ends in ":tag" after its last path element, so
// a registry port ("localhost:5000/x") is not mistaken for a tag.
func hasTag(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	i := strings.LastIndex(last, ":")
	return i > 0 && i < len(last)-1
}

// WriteLayout writes img to w as an OCI image layout tar: oci-layout,
// index.json and blobs/sha256/<digest> for the config, the manifest and the
// gzipped layer.
func (img Image) WriteLayout(w io.Writer) error {
	if err := img.Validate(); err != nil {
		return fmt.Errorf("validating image %q: %w", img.Name, err)
	}
	layerTar, err := img.layerTar()
	if err != nil {
		return fmt.Errorf("building layer of %q: %w", img.Name, err)
	}
	layerGz, err := gzipped(layerTar)
	if err != nil {
		return fmt.Errorf("compressing layer of %q: %w", img.Name, err)
	}
	config, err := json.Marshal(Config{
		Architecture: img.Architecture,
		OS:           img.OS,
		Config:       ProcessConfig{Entrypoint: img.Entrypoint, WorkingDir: "/"},
		RootFS:       RootFS{Type: "layers", DiffIDs: []string{digest(layerTar)}},
	})
	if err != nil {
		return fmt.Errorf("encoding config of %q: %w", img.Name, err)
	}
	manifest, err := json.Marshal(Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		Config:        descriptor(MediaTypeConfig, config),
		Layers:        []Descriptor{descriptor(MediaTypeLayer, layerGz)},
	})
	if err != nil {
		return fmt.Errorf("encoding manifest of %q: %w", img.Name, err)
	}
	manifestDesc := descriptor(MediaTypeManifest, manifest)
	manifestDesc.Platform = &Platform{Architecture: img.Architecture, OS: img.OS}
	manifestDesc.Annotations = map[string]string{
		AnnotationImageName: img.Name,
		AnnotationRefName:   img.Name[strings.LastIndex(img.Name, ":")+1:],
	}
	index, err := json.Marshal(Index{SchemaVersion: 2, MediaType: MediaTypeIndex, Manifests: []Descriptor{manifestDesc}})
	if err != nil {
		return fmt.Errorf("encoding index of %q: %w", img.Name, err)
	}
	files := []tarFile{
		{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"1.0.0"}`), mode: 0o644},
		{name: "index.json", data: index, mode: 0o644},
		blobFile(config),
		blobFile(manifest),
		blobFile(layerGz),
	}
	if err := writeTar(w, files); err != nil {
		return fmt.Errorf("writing layout of %q: %w", img.Name, err)
	}
	return nil
}

// layerTar is the uncompressed layer: the parent directories of Path and the
// executable itself, then the same for each extra file.
func (img Image) layerTar() ([]byte, error) {
	var files []tarFile
	dirs := map[string]bool{}
	for _, f := range append([]File{{Path: img.Path, Data: img.Binary}}, img.Extra...) {
		for _, d := range parentDirs(path.Dir(f.Path)) {
			if !dirs[d] {
				dirs[d] = true
				files = append(files, tarFile{name: d + "/", mode: 0o755, dir: true})
			}
		}
		files = append(files, tarFile{name: strings.TrimPrefix(f.Path, "/"), data: f.Data, mode: 0o755})
	}
	var buf bytes.Buffer
	if err := writeTar(&buf, files); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// parentDirs lists dir and its ancestors, outermost first, without the root
// and without a leading slash: "/a/b" gives ["a", "a/b"].
func parentDirs(dir string) []string {
	if dir == "/" {
		return nil
	}
	return append(parentDirs(path.Dir(dir)), strings.TrimPrefix(dir, "/"))
}

type tarFile struct {
	name string
	data []byte
	mode int64
	dir  bool
}

func blobFile(data []byte) tarFile {
	return tarFile{name: "blobs/sha256/" + strings.TrimPrefix(digest(data), "sha256:"), data: data, mode: 0o644}
}

func writeTar(w io.Writer, files []tarFile) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, ModTime: epoch, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if f.dir {
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing tar header %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("writing tar entry %s: %w", f.name, err)
		}
	}
	return tw.Close()
}

// gzipped compresses data with an empty gzip header (no name, zero mtime) so
// the output depends on the content only.
func gzipped(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func descriptor(mediaType string, data []byte) Descriptor {
	return Descriptor{MediaType: mediaType, Digest: digest(data), Size: int64(len(data))}
}
