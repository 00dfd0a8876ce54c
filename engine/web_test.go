package engine

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/vigil-video/vigil/sim"
)

// TestWebConfigBasicAuth: with an exporter-toolkit web configuration,
// /metrics and the API need the configured user.
func TestWebConfigBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("op-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	wc := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(wc, []byte("basic_auth_users:\n  ops: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startSim(t, sim.Camera{Path: "cam", Clip: clip(t, "static")})
	cfg := testConfig(cameraConfig("cam", srv.URL("cam")))
	cfg.WebConfigFile = wc
	e, err := New(cfg, Options{Logger: testLogger(t), Events: &collector{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tc := range []struct {
		user, pass string
		want       int
	}{{"", "", http.StatusUnauthorized}, {"ops", "wrong", http.StatusUnauthorized}, {"ops", "op-secret", http.StatusOK}} {
		for _, path := range []string{"/metrics", "/api/cameras"} {
			req, _ := http.NewRequest("GET", "http://"+e.Addr()+path, nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("GET %s as %q/%q: %d, want %d", path, tc.user, tc.pass, res.StatusCode, tc.want)
			}
		}
	}

	bad := cfg
	bad.WebConfigFile = filepath.Join(t.TempDir(), "missing.yaml")
	if err := bad.Validate(); err == nil {
		t.Error("a missing web_config_file validated")
	}
}
