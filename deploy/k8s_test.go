package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// k8sObject is the part of a Kubernetes object the test checks.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		ServiceName string `yaml:"serviceName"`
		ClusterIP   string `yaml:"clusterIP"`
		// Selector is a Service's (labels) or a StatefulSet's
		// (matchLabels: labels): see stsLabels.
		Selector map[string]any `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Name  string   `yaml:"name"`
					Image string   `yaml:"image"`
					Args  []string `yaml:"args"`
					Env   []struct {
						Name      string `yaml:"name"`
						Value     string `yaml:"value"`
						ValueFrom struct {
							FieldRef struct {
								FieldPath string `yaml:"fieldPath"`
							} `yaml:"fieldRef"`
						} `yaml:"valueFrom"`
					} `yaml:"env"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string `yaml:"name"`
					ConfigMap struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					Secret struct {
						SecretName string `yaml:"secretName"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

// loadK8s parses every document of the manifests, keyed "Kind/name"; a
// document that is not well-formed YAML fails the test.
func loadK8s(t *testing.T) map[string]k8sObject {
	t.Helper()
	out := map[string]k8sObject{}
	files, _ := filepath.Glob("k8s/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests in deploy/k8s")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s document %d: apiVersion, kind and metadata.name are required", f, i)
			}
			out[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return out
}

// stsLabels returns a StatefulSet's spec.selector.matchLabels (the
// field shares its key with a Service's selector, of another shape).
func stsLabels(t *testing.T, name string) map[string]string {
	t.Helper()
	b, _ := os.ReadFile("k8s/" + name + ".yaml")
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Selector struct {
					MatchLabels map[string]string `yaml:"matchLabels"`
				} `yaml:"selector"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("no StatefulSet in k8s/%s.yaml", name)
		}
		if o.Kind == "StatefulSet" {
			return o.Spec.Selector.MatchLabels
		}
	}
}

func strMap(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

func sameLabels(a, b map[string]string) bool {
	if len(a) == 0 || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestK8sManifests: the manifests are well-formed and agree with each
// other (names, labels, ports, volumes, the node id from the pod name, the
// NATS address and version), and the ConfigMap's configuration passes
// `vigil check-config` with the pod's environment.
func TestK8sManifests(t *testing.T) {
	objs := loadK8s(t)
	for _, k := range []string{"Service/nats", "StatefulSet/nats", "ConfigMap/vigil", "Service/vigil", "StatefulSet/vigil"} {
		if _, ok := objs[k]; !ok {
			t.Fatalf("%s missing from deploy/k8s", k)
		}
	}
	for _, name := range []string{"nats", "vigil"} {
		sts, svc := objs["StatefulSet/"+name], objs["Service/"+name]
		if sts.Spec.ServiceName != svc.Metadata.Name {
			t.Errorf("StatefulSet/%s serviceName %q, want its Service %q", name, sts.Spec.ServiceName, svc.Metadata.Name)
		}
		sel := stsLabels(t, name)
		if !sameLabels(sel, sts.Spec.Template.Metadata.Labels) || !sameLabels(strMap(svc.Spec.Selector), sel) {
			t.Errorf("%s: StatefulSet selector %v, pod labels %v, Service selector %v: want the same", name, sel, sts.Spec.Template.Metadata.Labels, svc.Spec.Selector)
		}
		ports := map[string]int{}
		for _, c := range sts.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := ports[p.TargetPort]; !ok || ports[p.TargetPort] != p.Port {
				t.Errorf("Service/%s port %s targets %q, not a container port of %d", name, p.Name, p.TargetPort, p.Port)
			}
		}
	}
	if objs["Service/vigil"].Spec.ClusterIP != "None" {
		t.Error("Service/vigil is not headless: pods have no stable names to advertise")
	}

	// The NATS image is the server version the tests embed.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github.com/nats-io/nats-server/v2 v(\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod pins no nats-server")
	}
	if img := objs["StatefulSet/nats"].Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "nats:"+string(m[1])) {
		t.Errorf("NATS image %s, want nats:%s (go.mod)", img, m[1])
	}

	// vigil: the node id is the pod name, the configuration is the
	// ConfigMap, the data a volume claim.
	sts := objs["StatefulSet/vigil"]
	c := sts.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.Name == "POD_NAME" && e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
			t.Errorf("POD_NAME comes from %q, want metadata.name (the ordinal names the node)", e.ValueFrom.FieldRef.FieldPath)
		}
	}
	if _, ok := env["POD_NAME"]; !ok {
		t.Error("StatefulSet/vigil sets no POD_NAME")
	}
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.Name] = vm.MountPath
	}
	var cfgPath string
	for i, a := range c.Args {
		if a == "--config" && i+1 < len(c.Args) {
			cfgPath = c.Args[i+1]
		}
	}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		switch {
		case v.ConfigMap.Name != "":
			if _, ok := objs["ConfigMap/"+v.ConfigMap.Name]; !ok {
				t.Errorf("volume %s: no ConfigMap %s", v.Name, v.ConfigMap.Name)
			}
			if cfgPath != filepath.Join(mounts[v.Name], "vigil.yaml") {
				t.Errorf("--config %s is not the ConfigMap's vigil.yaml under %s", cfgPath, mounts[v.Name])
			}
		case v.Secret.SecretName != "":
			// The Secret is created once, outside the apply set.
			if _, ok := exampleSecrets(t)[v.Secret.SecretName]; !ok {
				t.Errorf("volume %s: no example of Secret %s in k8s/examples", v.Name, v.Secret.SecretName)
			}
		}
	}
	if len(sts.Spec.VolumeClaimTemplates) == 0 || mounts[sts.Spec.VolumeClaimTemplates[0].Metadata.Name] != "/var/lib/vigil" {
		t.Error("the data volume claim is not mounted on /var/lib/vigil (the outbox survives a restart)")
	}

	// The ConfigMap's configuration, as the pod vigil-1 reads it.
	cfg := objs["ConfigMap/vigil"].Data["vigil.yaml"]
	if !strings.Contains(cfg, "nats://nats:4222") {
		t.Error("the configuration does not reach NATS at its Service (nats:4222)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "camera-password"), []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(cfg, "/etc/vigil/secrets/", dir+"/")), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(vigilBin, "check-config", path)
	cmd.Env = append(os.Environ(), "POD_NAME=vigil-1", "POD_ADDR=vigil-1.vigil:9108")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vigil check-config on the ConfigMap: %v\n%s", err, out)
	}
	for _, want := range []string{"node_id: vigil-1", "advertise: vigil-1.vigil:9108"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("check-config output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "s3cret-pass") {
		t.Error("check-config shows the camera password")
	}
}
