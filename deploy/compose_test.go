package deploy

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/config"
)

// composeFile is what the test reads of deploy/compose/compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Image   string   `yaml:"image"`
		Command []string `yaml:"command"`
		Build   *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Volumes   []string       `yaml:"volumes"`
		Ports     []string       `yaml:"ports"`
		DependsOn map[string]any `yaml:"depends_on"`
	} `yaml:"services"`
}

// TestCompose: the compose stack (engine, simulated cameras, Mosquitto,
// NATS JetStream) is one a user can run as it stands: every image pinned
// (vigil's as in deploy/k8s), the engine built from deploy/Dockerfile, host
// ports on loopback only, the engine's data on a volume, and its
// configuration valid (config.Load, as vigil run does) with MQTT and NATS
// sinks on the compose services and one camera per simulated camera.
func TestCompose(t *testing.T) {
	b, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"vigil", "sim", "mosquitto", "nats"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("compose.yaml has no %s service", name)
		}
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:\d+\.\d+\.\d+(-[a-z0-9]+)?$`)
	for name, s := range c.Services {
		if !pinned.MatchString(s.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q beyond loopback", name, p)
			}
		}
	}
	k8s, err := os.ReadFile("k8s/vigil.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v := c.Services["vigil"]
	if !strings.Contains(string(k8s), "image: "+v.Image+"\n") {
		t.Errorf("vigil's image %s is not the one deploy/k8s runs", v.Image)
	}
	want, _ := filepath.Abs("Dockerfile")
	if v.Build == nil {
		t.Fatal("vigil is not built")
	}
	if got, _ := filepath.Abs(filepath.Join("compose", v.Build.Context, v.Build.Dockerfile)); got != want {
		t.Errorf("vigil is not built from deploy/Dockerfile: %+v", v.Build)
	}
	if !slices.ContainsFunc(v.Volumes, func(s string) bool { return strings.HasSuffix(s, ":/var/lib/vigil") }) {
		t.Errorf("vigil's data directory is not a volume: %v", v.Volumes)
	}
	for _, dep := range []string{"mosquitto", "nats", "sim"} {
		if _, ok := v.DependsOn[dep]; !ok {
			t.Errorf("vigil does not depend on %s", dep)
		}
	}
	if nats := c.Services["nats"]; !slices.Contains(nats.Command, "--jetstream") {
		t.Errorf("nats runs without JetStream: %v", nats.Command)
	}
	conf, err := os.ReadFile("compose/mosquitto.conf")
	if err != nil || !strings.Contains(string(conf), "listener 1883\n") {
		t.Errorf("mosquitto.conf has no listener on 1883 (%v)", err)
	}

	cfg, err := config.Load("compose/vigil.yaml")
	if err != nil {
		t.Fatalf("compose/vigil.yaml: %v", err)
	}
	kinds := map[string]string{}
	for _, s := range cfg.Sinks {
		switch {
		case s.MQTT != nil:
			kinds["mqtt"] = s.MQTT.URL
		case s.NATS != nil:
			kinds["nats"] = s.NATS.URL
		}
	}
	for kind, host := range map[string]string{"mqtt": "mosquitto", "nats": "nats"} {
		u, err := url.Parse(kinds[kind])
		if err != nil || u.Hostname() != host {
			t.Errorf("the %s sink goes to %q, want the %s service", kind, kinds[kind], host)
		}
	}
	sim := c.Services["sim"].Command
	i := slices.Index(sim, "--cameras")
	n := 0
	if i >= 0 && i+1 < len(sim) {
		n, _ = strconv.Atoi(sim[i+1])
	}
	if n == 0 || len(cfg.Cameras) != n {
		t.Fatalf("%d cameras for %d simulated ones (sim %v)", len(cfg.Cameras), n, sim)
	}
	for k, cam := range cfg.Cameras {
		u, err := url.Parse(cam.URL)
		if err != nil || u.Hostname() != "sim" || u.Path != fmt.Sprintf("/cam%03d", k+1) {
			t.Errorf("camera %s: %s is not the sim service's path %d", cam.ID, cam.URL, k+1)
		}
	}
}
