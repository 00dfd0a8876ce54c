package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit: systemd-analyze verify accepts vigil.service with no
// warning. It checks that ExecStart's binary exists, so the unit is
// verified as a copy naming the binary built for the tests; nothing else
// changes.
func TestSystemdUnit(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "systemd")
	raw, err := os.ReadFile("vigil.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	if strings.Count(unit, "/usr/local/bin/vigil ") != 1 {
		t.Fatal("vigil.service: ExecStart must run /usr/local/bin/vigil once")
	}
	for _, want := range []string{"ExecStart=/usr/local/bin/vigil run --config /etc/vigil/vigil.yaml", "StateDirectory=vigil", "User=vigil",
		"KillSignal=SIGTERM", "WantedBy=multi-user.target"} {
		if !strings.Contains(unit, want) {
			t.Errorf("vigil.service lacks %q", want)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.service")
	if err := os.WriteFile(path, []byte(strings.Replace(unit, "/usr/local/bin/vigil ", vigilBin+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
