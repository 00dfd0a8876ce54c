package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
cameras:
  - id: gate
    url: rtsp://10.0.0.1/stream
  - id: lobby
    url: rtsp://10.0.0.2/stream
    transport: udp
    analysis_fps: 2
    motion:
      min_area: 0.01
`))
	if err != nil {
		t.Fatal(err)
	}
	gate, lobby := cfg.Cameras[0], cfg.Cameras[1]
	if cfg.Listen != "127.0.0.1:9108" || cfg.Workers < 1 || cfg.QueueMemoryMB != 256 {
		t.Errorf("engine defaults not applied: %+v", cfg)
	}
	if gate.Transport != "tcp" || gate.AnalysisWidth != 320 || gate.AnalysisFPS != 5 || gate.StallTimeout != 5*time.Second || gate.HealthUpdateInterval != 30*time.Second {
		t.Errorf("camera defaults not applied: %+v", gate)
	}
	if lobby.Transport != "udp" || lobby.AnalysisFPS != 2 || lobby.Motion.MinArea != 0.01 {
		t.Errorf("camera settings lost: %+v", lobby)
	}
	if lobby.Motion.QuietPeriod != 3*time.Second || lobby.Motion.Algorithm == "" {
		t.Errorf("motion defaults not kept beside a set field: %+v", lobby.Motion)
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // all must appear in the error
		not        string   // must not appear
	}{
		{"malformed yaml", "cameras: [ {id: a", []string{"yaml"}, ""},
		{"empty", "", []string{"empty"}, ""},
		{"unknown top key", "camras: []", []string{"camras", "unknown key", "line 1"}, ""},
		{"unknown camera key", "cameras:\n  - id: a\n    url: rtsp://h/x\n    transprt: tcp\n", []string{"cameras[0].transprt", "unknown key", "line 4"}, ""},
		{"unknown motion key", "cameras:\n  - id: a\n    url: rtsp://h/x\n    motion: {treshold: 3}\n", []string{"cameras[0].motion.treshold"}, ""},
		{"no cameras", "listen: ':1'\n", []string{"cameras", "at least one"}, ""},
		{"bad scheme", "cameras:\n  - id: cam7\n    url: http://admin:s3cret@h/x\n", []string{`cameras[0] (id "cam7")`, `scheme "http"`, "http://h/x"}, "s3cret"},
		{"bad transport", "cameras:\n  - id: a\n    url: rtsp://h/x\n    transport: sctp\n", []string{`cameras[0] (id "a").transport`, "sctp"}, ""},
		{"missing url", "cameras:\n  - id: a\n", []string{"cameras[0]", "url: required"}, ""},
		{"bad id", "cameras:\n  - id: 'a b'\n    url: rtsp://h/x\n", []string{"cameras[0]", ".id", `"a b"`}, ""},
		{"url as id", "cameras:\n  - id: 'rtsp://admin:s3cret@h/x'\n    url: rtsp://h/x\n", []string{"cameras[0].id", "hidden"}, "s3cret"},
		{"duplicate id", "cameras:\n  - {id: a, url: 'rtsp://h/x'}\n  - {id: a, url: 'rtsp://h/y'}\n", []string{`cameras[1] (id "a").id`, "duplicate of cameras[0]"}, ""},
		{"bad fps", "cameras:\n  - {id: a, url: 'rtsp://h/x', analysis_fps: -1}\n", []string{"analysis_fps"}, ""},
		{"bad motion", "cameras:\n  - {id: a, url: 'rtsp://h/x', motion: {threshold: 900}}\n", []string{`cameras[0] (id "a").motion`, "threshold"}, ""},
		{"bad duration", "cameras:\n  - {id: a, url: 'rtsp://h/x', stall_timeout: soon}\n", []string{"soon"}, ""},
		{"bad health update interval", "cameras:\n  - {id: a, url: 'rtsp://h/x', health_update_interval: 10ms}\n", []string{`cameras[0] (id "a").health_update_interval`, "10ms", "1s..1h"}, ""},
		{"credential where a list belongs", "cameras: rtsp://admin:s3cret@h/x\n", []string{"yaml", "line 1"}, "s3cret"},
		{"short credential where a map belongs", "u:pw@h\n", []string{"yaml", "(value hidden)"}, "pw@"},
		{"bad zone polygon", "cameras:\n  - id: a\n    url: rtsp://h/x\n    zones: [{name: door, restricted: true, polygon: [[0,0],[2,0],[1,1]]}]\n", []string{`cameras[0] (id "a").zones[0] ("door").polygon`, "outside"}, ""},
		{"zone without rule", "cameras:\n  - id: a\n    url: rtsp://h/x\n    zones: [{name: door, polygon: [[0,0],[1,0],[1,1]]}]\n", []string{`zones[0] ("door")`, "no rule"}, ""},
		{"unknown zone key", "cameras:\n  - id: a\n    url: rtsp://h/x\n    zones: [{name: door, restrcted: true}]\n", []string{"cameras[0].zones[0].restrcted", "unknown key"}, ""},
		{"bad tamper", "cameras:\n  - {id: a, url: 'rtsp://h/x', tamper: {defocus_ratio: 2}}\n", []string{`cameras[0] (id "a").tamper.defocus_ratio`}, ""},
		{"crowd without person", "cameras:\n  - id: a\n    url: rtsp://h/x\n    zones: [{name: sq, crowd: 5, polygon: [[0,0],[1,0],[1,1]]}]\n", []string{"crowd", "person.enabled"}, ""},
		{"bad evidence", "evidence: {max_bytes: -1}\ncameras:\n  - {id: a, url: 'rtsp://h/x'}\n", []string{"evidence.max_bytes"}, ""},
		{"bad history size", "history: {max_bytes: -1}\ncameras:\n  - {id: a, url: 'rtsp://h/x'}\n", []string{"history.max_bytes", "-1"}, ""},
		{"bad history age", "history: {max_age: -1h}\ncameras:\n  - {id: a, url: 'rtsp://h/x'}\n", []string{"history.max_age", "-1h"}, ""},
		{"history without path", "history: {path: ''}\ncameras:\n  - {id: a, url: 'rtsp://h/x'}\n", []string{"history.path", "required"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.not != "" && strings.Contains(err.Error(), tc.not) {
				t.Errorf("error %q leaks %q", err, tc.not)
			}
		})
	}
}

func TestLoadConfigNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cams.yaml")
	os.WriteFile(p, []byte("cameras:\n  - id: a\n    url: rtsp://h/x\n    colour: red\n"), 0o600)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "cameras[0].colour") {
		t.Fatalf("error %v should name the file and the key", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestExampleConfigParses(t *testing.T) {
	cfg, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Cameras) != 2 || cfg.Cameras[0].Password != "change-me" {
		t.Fatalf("%+v", cfg)
	}
	c := cfg.Cameras[0]
	if len(c.Zones) != 2 || !c.Zones[0].Restricted || c.Zones[1].Loiter != 2*time.Minute || c.Zones[1].Crowd != 6 ||
		len(c.Masks) != 1 || !c.Person.Enabled || c.Tamper.DefocusRatio != 0.4 || cfg.Evidence.MaxAge != 168*time.Hour {
		t.Errorf("analysis keys not decoded: %+v", c)
	}
	// The second camera keeps every analysis default.
	if d := cfg.Cameras[1]; !d.Tamper.Enabled || d.Person.Enabled || len(d.Zones) != 0 || d.Tamper.FrozenTime != 2*time.Second {
		t.Errorf("defaults not applied: %+v", d)
	}
}

// TestConfigErrorsHideUserinfo: whatever check fails, a value holding an
// "@" never reaches the error.
func TestConfigErrorsHideUserinfo(t *testing.T) {
	for _, doc := range []string{
		"cameras:\n  - id: a\n    url: rtsp://h/x\n    transport: 'u:pw@h'\n",
		"cameras:\n  - id: a\n    url: rtsp://h/x\n    zones: [{name: 'u:pw@z', restricted: true, polygon: [[0,0],[2,0],[1,1]]}]\n",
		"cameras:\n  - id: a\n    url: rtsp://h/x\n    'u:pw@k': 1\n",
		"cameras:\n  - id: a\n    url: rtsp://h/x\n    motion: {algorithm: 'u:pw@m'}\n",
	} {
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Fatalf("accepted %q", doc)
		}
		if strings.Contains(err.Error(), "pw@") || !strings.Contains(err.Error(), "(value hidden)") {
			t.Errorf("error %q shows the value", err)
		}
	}
}
