package pause

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func validImage() Image {
	return Image{
		Name:         "localhost/netsteer/pause:e2e",
		Binary:       []byte("\x7fELF not really"),
		Path:         "/bin/pause",
		Entrypoint:   []string{"/bin/pause"},
		OS:           "linux",
		Architecture: "amd64",
	}
}

// readTar returns the regular files and the directory names of a tar.
func readTar(t *testing.T, data []byte) (files map[string][]byte, modes map[string]int64, dirs []string) {
	t.Helper()
	files, modes = map[string][]byte{}, map[string]int64{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, modes, dirs
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, hdr.Name)
			continue
		}
		if _, dup := files[hdr.Name]; dup {
			t.Fatalf("tar has %s twice", hdr.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading tar entry %s: %v", hdr.Name, err)
		}
		files[hdr.Name], modes[hdr.Name] = b, hdr.Mode
	}
}

// blob returns the blob a descriptor points to after checking its digest and size.
func blob(t *testing.T, files map[string][]byte, d Descriptor) []byte {
	t.Helper()
	hexDigest, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok {
		t.Fatalf("digest %q is not sha256", d.Digest)
	}
	b, ok := files["blobs/sha256/"+hexDigest]
	if !ok {
		t.Fatalf("blob %s (%s) missing from layout", d.Digest, d.MediaType)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != hexDigest {
		t.Fatalf("blob %s has content digest %s", d.Digest, got)
	}
	if int64(len(b)) != d.Size {
		t.Fatalf("blob %s is %d bytes, descriptor says %d", d.Digest, len(b), d.Size)
	}
	return b
}

func decode(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decoding %s: %v\n%s", name, err, data)
	}
}

func TestWriteLayoutStructure(t *testing.T) {
	img := validImage()
	var out bytes.Buffer
	if err := img.WriteLayout(&out); err != nil {
		t.Fatalf("WriteLayout: %v", err)
	}
	files, _, _ := readTar(t, out.Bytes())

	if got := string(files["oci-layout"]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q", got)
	}
	var index Index
	decode(t, "index.json", files["index.json"], &index)
	if index.SchemaVersion != 2 || index.MediaType != MediaTypeIndex || len(index.Manifests) != 1 {
		t.Fatalf("index = %+v, want schema 2, one manifest", index)
	}
	md := index.Manifests[0]
	if md.MediaType != MediaTypeManifest {
		t.Errorf("manifest media type = %q", md.MediaType)
	}
	if md.Annotations[AnnotationImageName] != img.Name || md.Annotations[AnnotationRefName] != "e2e" {
		t.Errorf("manifest annotations = %v, want image name %q and tag e2e", md.Annotations, img.Name)
	}
	if md.Platform == nil || *md.Platform != (Platform{OS: "linux", Architecture: "amd64"}) {
		t.Errorf("manifest platform = %+v", md.Platform)
	}

	var manifest Manifest
	decode(t, "manifest", blob(t, files, md), &manifest)
	if manifest.SchemaVersion != 2 || manifest.Config.MediaType != MediaTypeConfig || len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != MediaTypeLayer {
		t.Fatalf("manifest = %+v", manifest)
	}
	var config Config
	decode(t, "config", blob(t, files, manifest.Config), &config)
	if !reflect.DeepEqual(config.Config.Entrypoint, img.Entrypoint) || config.OS != "linux" || config.Architecture != "amd64" {
		t.Errorf("config = %+v", config)
	}

	zr, err := gzip.NewReader(bytes.NewReader(blob(t, files, manifest.Layers[0])))
	if err != nil {
		t.Fatalf("opening layer gzip: %v", err)
	}
	layer, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompressing layer: %v", err)
	}
	sum := sha256.Sum256(layer)
	if want := []string{"sha256:" + hex.EncodeToString(sum[:])}; !reflect.DeepEqual(config.RootFS.DiffIDs, want) || config.RootFS.Type != "layers" {
		t.Errorf("rootfs = %+v, want layers %v", config.RootFS, want)
	}
	layerFiles, modes, dirs := readTar(t, layer)
	if got := string(layerFiles["bin/pause"]); got != string(img.Binary) {
		t.Errorf("layer bin/pause = %q, want the binary", got)
	}
	if modes["bin/pause"] != 0o755 {
		t.Errorf("layer bin/pause mode = %o, want 755", modes["bin/pause"])
	}
	if !reflect.DeepEqual(dirs, []string{"bin/"}) {
		t.Errorf("layer directories = %v, want [bin/]", dirs)
	}

	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) != 5 {
		t.Errorf("layout files = %v, want oci-layout, index.json and 3 blobs", names)
	}
}

func TestWriteLayoutReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := validImage().WriteLayout(&a); err != nil {
		t.Fatalf("first WriteLayout: %v", err)
	}
	if err := validImage().WriteLayout(&b); err != nil {
		t.Fatalf("second WriteLayout: %v", err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two layouts of the same image differ")
	}
	other := validImage()
	other.Binary = []byte("other")
	var c bytes.Buffer
	if err := other.WriteLayout(&c); err != nil {
		t.Fatalf("third WriteLayout: %v", err)
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("layouts of different binaries are equal")
	}
}

func TestWriteLayoutRootBinary(t *testing.T) {
	img := validImage()
	img.Path, img.Entrypoint = "/pause", []string{"/pause"}
	var out bytes.Buffer
	if err := img.WriteLayout(&out); err != nil {
		t.Fatalf("WriteLayout: %v", err)
	}
	files, _, _ := readTar(t, out.Bytes())
	var index Index
	decode(t, "index.json", files["index.json"], &index)
	var manifest Manifest
	decode(t, "manifest", blob(t, files, index.Manifests[0]), &manifest)
	zr, err := gzip.NewReader(bytes.NewReader(blob(t, files, manifest.Layers[0])))
	if err != nil {
		t.Fatalf("opening layer gzip: %v", err)
	}
	layer, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompressing layer: %v", err)
	}
	layerFiles, _, dirs := readTar(t, layer)
	if len(dirs) != 0 || len(layerFiles) != 1 || layerFiles["pause"] == nil {
		t.Errorf("layer has dirs %v and files %d, want only pause", dirs, len(layerFiles))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Image)
		wantErr string
	}{
		{"valid", func(*Image) {}, ""},
		{"registry port and tag", func(i *Image) { i.Name = "localhost:5000/pause:1" }, ""},
		{"empty name", func(i *Image) { i.Name = "" }, "name is empty"},
		{"no tag", func(i *Image) { i.Name = "localhost/pause" }, "has no tag"},
		{"registry port without tag", func(i *Image) { i.Name = "localhost:5000/pause" }, "has no tag"},
		{"empty tag", func(i *Image) { i.Name = "localhost/pause:" }, "has no tag"},
		{"empty binary", func(i *Image) { i.Binary = nil }, "binary is empty"},
		{"relative path", func(i *Image) { i.Path = "pause" }, "not a clean absolute"},
		{"unclean path", func(i *Image) { i.Path = "/bin/../pause" }, "not a clean absolute"},
		{"root path", func(i *Image) { i.Path = "/" }, "not a clean absolute"},
		{"no entrypoint", func(i *Image) { i.Entrypoint = nil }, "entrypoint is empty"},
		{"empty entrypoint", func(i *Image) { i.Entrypoint = []string{""} }, "entrypoint is empty"},
		{"no os", func(i *Image) { i.OS = "" }, "platform"},
		{"no arch", func(i *Image) { i.Architecture = "" }, "platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := validImage()
			tt.edit(&img)
			err := img.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if err := img.WriteLayout(io.Discard); err == nil {
				t.Fatal("WriteLayout accepted an invalid image")
			}
		})
	}
}

// layerOf returns the files and directories of img's only layer.
func layerOf(t *testing.T, img Image) (map[string][]byte, []string) {
	t.Helper()
	var out bytes.Buffer
	if err := img.WriteLayout(&out); err != nil {
		t.Fatalf("WriteLayout: %v", err)
	}
	files, _, _ := readTar(t, out.Bytes())
	var index Index
	decode(t, "index.json", files["index.json"], &index)
	var manifest Manifest
	decode(t, "manifest", blob(t, files, index.Manifests[0]), &manifest)
	zr, err := gzip.NewReader(bytes.NewReader(blob(t, files, manifest.Layers[0])))
	if err != nil {
		t.Fatalf("opening layer gzip: %v", err)
	}
	layer, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompressing layer: %v", err)
	}
	layerFiles, _, dirs := readTar(t, layer)
	return layerFiles, dirs
}

func TestWriteLayoutExtraFiles(t *testing.T) {
	img := validImage()
	img.Path, img.Entrypoint = "/netsteer-install", []string{"/netsteer-install"}
	img.Extra = []File{{Path: "/netsteer/bin/vethbridge", Data: []byte("veth")}, {Path: "/netsteer/bin/portmap", Data: []byte("pm")}}
	files, dirs := layerOf(t, img)
	want := map[string]string{"netsteer-install": string(img.Binary), "netsteer/bin/vethbridge": "veth", "netsteer/bin/portmap": "pm"}
	if len(files) != len(want) {
		t.Errorf("layer files = %d, want %d", len(files), len(want))
	}
	for name, data := range want {
		if string(files[name]) != data {
			t.Errorf("layer %s = %q, want %q", name, files[name], data)
		}
	}
	// Each directory once, parents before children.
	if !reflect.DeepEqual(dirs, []string{"netsteer/", "netsteer/bin/"}) {
		t.Errorf("layer directories = %v, want [netsteer/ netsteer/bin/]", dirs)
	}
}

func TestValidateExtraFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []File
		want  string
	}{
		{"relative", []File{{Path: "bin/x", Data: []byte("x")}}, "not a clean absolute"},
		{"unclean", []File{{Path: "/bin/../x", Data: []byte("x")}}, "not a clean absolute"},
		{"same as entrypoint", []File{{Path: "/bin/pause", Data: []byte("x")}}, "packed twice"},
		{"twice", []File{{Path: "/x", Data: []byte("x")}, {Path: "/x", Data: []byte("y")}}, "packed twice"},
	} {
		img := validImage()
		img.Extra = tc.extra
		if err := img.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
