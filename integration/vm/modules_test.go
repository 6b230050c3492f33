package vm

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeModuleELF returns a minimal relocatable ELF with only a .modinfo
// section, which is all the harness reads from a module.
func fakeModuleELF(t *testing.T, modinfo string) []byte {
	t.Helper()
	shstrtab := "\x00.modinfo\x00.shstrtab\x00"
	infoOff := uint64(64)
	strOff := infoOff + uint64(len(modinfo))
	shOff := (strOff + uint64(len(shstrtab)) + 7) &^ 7
	hdr := elf.Header64{
		Type: uint16(elf.ET_REL), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Shoff: shOff, Ehsize: 64, Shentsize: 64, Shnum: 3, Shstrndx: 2,
	}
	copy(hdr.Ident[:], "\x7fELF")
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	sections := []elf.Section64{
		{},
		{Name: 1, Type: uint32(elf.SHT_PROGBITS), Off: infoOff, Size: uint64(len(modinfo)), Addralign: 1},
		{Name: 10, Type: uint32(elf.SHT_STRTAB), Off: strOff, Size: uint64(len(shstrtab)), Addralign: 1},
	}
	var b bytes.Buffer
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(binary.Write(&b, binary.LittleEndian, hdr))
	b.WriteString(modinfo)
	b.WriteString(shstrtab)
	b.Write(make([]byte, int(shOff)-b.Len()))
	must(binary.Write(&b, binary.LittleEndian, sections))
	return b.Bytes()
}

func TestReadModinfoFromELF(t *testing.T) {
	mi, err := ReadModinfo(fakeModuleELF(t, "depends=stp,llc\x00name=bridge\x00"))
	if err != nil {
		t.Fatal(err)
	}
	if mi.Name != "bridge" || strings.Join(mi.Depends, ",") != "stp,llc" {
		t.Errorf("ReadModinfo = %+v", mi)
	}
}

// fakeModDir lays out lib/modules/<release> with plain and gzip-compressed
// modules and a modules.builtin file.
func fakeModDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	write("kernel/net/bridge/br_netfilter.ko", fakeModuleELF(t, "depends=bridge\x00name=br_netfilter\x00"))
	write("kernel/net/bridge/bridge.ko.gz", gz(fakeModuleELF(t, "depends=stp,llc\x00name=bridge\x00")))
	write("kernel/net/802/stp.ko", fakeModuleELF(t, "depends=llc\x00name=stp\x00"))
	write("kernel/drivers/net/ipvlan/ipvlan.ko", fakeModuleELF(t, "depends=\x00name=ipvlan\x00"))
	write("kernel/broken/broken.ko", []byte("not elf"))
	write("kernel/net/weird/weird.ko.lzma", []byte("?"))
	write("modules.builtin", []byte("kernel/net/llc/llc.ko\nkernel/drivers/net/veth.ko\n"))
	return dir
}

func TestModuleIndexPlan(t *testing.T) {
	ix, err := IndexModules(fakeModDir(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		wanted  []string
		want    string
		wantErr string
	}{
		{"deps first, built-ins left out", []string{"br_netfilter", "veth", "ipvlan"}, "stp bridge br_netfilter ipvlan", ""},
		{"only built-in", []string{"veth"}, "", ""},
		{"unknown module", []string{"dummy"}, "", "module dummy: neither a module file nor built into this kernel"},
		{"not an ELF", []string{"broken"}, "", "reading module ELF"},
		{"unknown compression not indexed", []string{"weird.ko.lzma"}, "", "neither a module file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods, err := ix.Plan(tt.wanted)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Plan(%v) error %v, want %q", tt.wanted, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range mods {
				if _, err := ReadModinfo(m.Image); err != nil {
					t.Errorf("image of %s: %v", m.Name, err)
				}
				names = append(names, m.Name)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("Plan(%v) = %q, want %q", tt.wanted, got, tt.want)
			}
		})
	}
}
