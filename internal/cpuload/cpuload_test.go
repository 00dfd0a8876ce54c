package cpuload

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stat")
	write := func(s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := &Meter{path: p}
	write("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n")
	if l, err := m.Load(); err != nil || l != 0.2 {
		t.Fatalf("first load %v %v, want 0.2 (since boot)", l, err)
	}
	// 300 more busy, 100 more idle: 0.75.
	write("cpu  300 0 200 800 100 0 0 0 0 0\n")
	if l, err := m.Load(); err != nil || l != 0.75 {
		t.Fatalf("load %v %v, want 0.75", l, err)
	}
	write("intr 1\n")
	if _, err := m.Load(); err == nil {
		t.Fatal("a file without a cpu line gave no error")
	}
	write("cpu  x 0 0 0 0\n")
	if _, err := m.Load(); err == nil {
		t.Fatal("a bad number gave no error")
	}
}

func TestLoadProc(t *testing.T) {
	m := New()
	for range 2 {
		l, err := m.Load()
		if err != nil {
			t.Skipf("no /proc/stat here: %v", err)
		}
		if l < 0 || l > 1 {
			t.Fatalf("load %v out of 0..1", l)
		}
	}
}
