package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// loadDocs parses every document of the files matching pattern as a
// generic tree, keyed "Kind/name".
func loadDocs(t *testing.T, pattern string) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob(pattern)
	if len(files) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var o map[string]any
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			out[fmt.Sprint(o["kind"])+"/"+fmt.Sprint(dig(o, "metadata", "name"))] = o
		}
	}
	return out
}

// dig follows keys down a generic tree; nil where a key is absent.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// exampleSecrets returns the Secrets of k8s/examples by name.
func exampleSecrets(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for k, o := range loadDocs(t, "k8s/examples/*.yaml") {
		if name, ok := strings.CutPrefix(k, "Secret/"); ok {
			out[name] = o
		}
	}
	return out
}

// workloads returns the pod templates of the apply set by "Kind/name".
func workloads(objs map[string]map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for k, o := range objs {
		switch o["kind"] {
		case "StatefulSet", "Deployment", "DaemonSet", "ReplicaSet", "Job":
			out[k], _ = dig(o, "spec", "template").(map[string]any)
		}
	}
	return out
}

// TestK8sPodSecurityRestricted: every pod and container of the apply set
// meets Pod Security "restricted" (the profile's rules: non-root,
// no privilege escalation, all capabilities dropped, RuntimeDefault or
// Localhost seccomp, no host namespaces, no hostPath) and has a read-only
// root filesystem; vigil's user is the image's (deploy/Dockerfile's USER).
func TestK8sPodSecurityRestricted(t *testing.T) {
	objs := loadDocs(t, "k8s/*.yaml")
	pods := workloads(objs)
	if len(pods) < 2 {
		t.Fatalf("%d workloads in deploy/k8s, want vigil and nats", len(pods))
	}
	for k, o := range objs {
		if o["kind"] == "Namespace" && dig(o, "metadata", "labels", "pod-security.kubernetes.io/enforce") != "restricted" {
			t.Errorf("%s: not labeled pod-security.kubernetes.io/enforce: restricted", k)
		}
	}
	for name, tmpl := range pods {
		spec := dig(tmpl, "spec")
		psc := dig(spec, "securityContext")
		for _, h := range []string{"hostNetwork", "hostPID", "hostIPC"} {
			if dig(spec, h) == true {
				t.Errorf("%s: %s", name, h)
			}
		}
		vols, _ := dig(spec, "volumes").([]any)
		for _, v := range vols {
			if dig(v, "hostPath") != nil {
				t.Errorf("%s: volume %v is a hostPath", name, dig(v, "name"))
			}
		}
		if uid, ok := dig(psc, "runAsUser").(int); !ok || uid == 0 {
			t.Errorf("%s: pod runAsUser %v, want a non-root uid", name, dig(psc, "runAsUser"))
		}
		if gid, ok := dig(psc, "runAsGroup").(int); !ok || gid == 0 {
			t.Errorf("%s: pod runAsGroup %v, want a non-root gid", name, dig(psc, "runAsGroup"))
		}
		if _, ok := dig(psc, "fsGroup").(int); !ok {
			t.Errorf("%s: no pod fsGroup: the data volume is not writable by the user", name)
		}
		cs, _ := dig(spec, "containers").([]any)
		ics, _ := dig(spec, "initContainers").([]any)
		for _, c := range append(cs, ics...) {
			csc := dig(c, "securityContext")
			id := fmt.Sprintf("%s container %v", name, dig(c, "name"))
			// A field set on the container wins over the pod's.
			field := func(k string) any {
				if v := dig(csc, k); v != nil {
					return v
				}
				return dig(psc, k)
			}
			if field("runAsNonRoot") != true {
				t.Errorf("%s: runAsNonRoot is not true", id)
			}
			if uid, ok := field("runAsUser").(int); ok && uid == 0 {
				t.Errorf("%s: runAsUser 0", id)
			}
			if p := field("seccompProfile"); dig(p, "type") != "RuntimeDefault" && dig(p, "type") != "Localhost" {
				t.Errorf("%s: seccompProfile %v, want RuntimeDefault", id, p)
			}
			if dig(csc, "allowPrivilegeEscalation") != false {
				t.Errorf("%s: allowPrivilegeEscalation is not false", id)
			}
			if dig(csc, "privileged") == true {
				t.Errorf("%s: privileged", id)
			}
			drop, _ := dig(csc, "capabilities", "drop").([]any)
			if len(drop) != 1 || drop[0] != "ALL" {
				t.Errorf("%s: capabilities drop %v, want [ALL]", id, drop)
			}
			if add, _ := dig(csc, "capabilities", "add").([]any); len(add) > 0 && !(len(add) == 1 && add[0] == "NET_BIND_SERVICE") {
				t.Errorf("%s: capabilities add %v", id, add)
			}
			if dig(csc, "readOnlyRootFilesystem") != true {
				t.Errorf("%s: readOnlyRootFilesystem is not true", id)
			}
		}
	}

	// vigil runs as the image's user, and every directory it writes is a
	// volume (the root filesystem is read-only).
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var user string
	for _, l := range strings.Split(string(df), "\n") {
		if u, ok := strings.CutPrefix(l, "USER "); ok {
			user = strings.TrimSpace(u)
		}
	}
	spec := dig(pods["StatefulSet/vigil"], "spec")
	if got := fmt.Sprintf("%v:%v", dig(spec, "securityContext", "runAsUser"), dig(spec, "securityContext", "runAsGroup")); got != user {
		t.Errorf("vigil runs as %s, the image's USER is %s", got, user)
	}
	mounts := map[string]bool{}
	cs, _ := dig(spec, "containers").([]any)
	vms, _ := dig(cs[0], "volumeMounts").([]any)
	for _, vm := range vms {
		mounts[fmt.Sprint(dig(vm, "mountPath"))] = true
	}
	for _, dir := range []string{"/var/lib/vigil", "/tmp"} { // the outbox and evidence; the web configuration's copy
		if !mounts[dir] {
			t.Errorf("vigil: %s is not a volume, but the root filesystem is read-only", dir)
		}
	}
}

// TestK8sNoSecretInApplySet: `kubectl apply -f deploy/k8s/` holds no
// Secret (it would reset the camera password); the Secret the workload
// reads has an example outside the apply set.
func TestK8sNoSecretInApplySet(t *testing.T) {
	objs := loadDocs(t, "k8s/*.yaml")
	for k, o := range objs {
		if o["kind"] == "Secret" {
			t.Errorf("%s is in the apply set: every apply resets it", k)
		}
	}
	vols, _ := dig(objs["StatefulSet/vigil"], "spec", "template", "spec", "volumes").([]any)
	var name string
	for _, v := range vols {
		if s, ok := dig(v, "secret", "secretName").(string); ok {
			name = s
		}
	}
	if name == "" {
		t.Fatal("StatefulSet/vigil mounts no Secret (the camera password)")
	}
	ex, ok := exampleSecrets(t)[name]
	if !ok {
		t.Fatalf("no example of Secret %s in k8s/examples", name)
	}
	if dig(ex, "stringData", "camera-password") == nil {
		t.Errorf("the example Secret %s has no camera-password", name)
	}
}

// TestK8sNetworkPolicies: a NetworkPolicy selects each workload's pods;
// vigil's ingress is only on its port and from a namespace or labeled
// pods (never from everyone), and NATS's only from vigil's pods.
func TestK8sNetworkPolicies(t *testing.T) {
	objs := loadDocs(t, "k8s/*.yaml")
	for name, tmpl := range workloads(objs) {
		labels, _ := dig(tmpl, "metadata", "labels").(map[string]any)
		var pols []map[string]any
		for _, o := range objs {
			if o["kind"] != "NetworkPolicy" {
				continue
			}
			sel, _ := dig(o, "spec", "podSelector", "matchLabels").(map[string]any)
			match := len(sel) > 0
			for k, v := range sel {
				if labels[k] != v {
					match = false
				}
			}
			if match {
				pols = append(pols, o)
			}
		}
		if len(pols) == 0 {
			t.Errorf("%s: no NetworkPolicy selects its pods %v", name, labels)
			continue
		}
		ports := map[string]bool{}
		cs, _ := dig(tmpl, "spec", "containers").([]any)
		for _, c := range cs {
			ps, _ := dig(c, "ports").([]any)
			for _, p := range ps {
				ports[fmt.Sprint(dig(p, "containerPort"))] = true
			}
		}
		for _, pol := range pols {
			rules, _ := dig(pol, "spec", "ingress").([]any)
			for i, r := range rules {
				from, _ := dig(r, "from").([]any)
				if len(from) == 0 {
					t.Errorf("%s: ingress rule %d admits every source", name, i)
				}
				for _, f := range from {
					if dig(f, "podSelector") == nil && dig(f, "namespaceSelector") == nil && dig(f, "ipBlock") == nil {
						t.Errorf("%s: ingress rule %d: a peer with no selector", name, i)
					}
					for _, k := range []string{"podSelector", "namespaceSelector"} {
						if sel, ok := dig(f, k).(map[string]any); ok && emptySelector(sel) {
							t.Errorf("%s: ingress rule %d: an empty %s admits every pod or namespace", name, i, k)
						}
					}
				}
				rp, _ := dig(r, "ports").([]any)
				if len(rp) == 0 {
					t.Errorf("%s: ingress rule %d admits every port", name, i)
				}
				for _, p := range rp {
					if dig(p, "protocol") != "UDP" && !ports[fmt.Sprint(dig(p, "port"))] {
						t.Errorf("%s: ingress rule %d opens TCP %v, not a container port", name, i, dig(p, "port"))
					}
				}
			}
		}
	}
	// NATS: clients from vigil's pods only.
	rules, _ := dig(objs["NetworkPolicy/nats"], "spec", "ingress").([]any)
	if len(rules) == 0 {
		t.Fatal("NetworkPolicy/nats admits no ingress rule (or is missing)")
	}
	for i, r := range rules {
		from, _ := dig(r, "from").([]any)
		for _, f := range from {
			if dig(f, "podSelector", "matchLabels", "app.kubernetes.io/name") != "vigil" || dig(f, "namespaceSelector") != nil || dig(f, "ipBlock") != nil {
				t.Errorf("NetworkPolicy/nats ingress rule %d admits %v, want vigil's pods only", i, f)
			}
		}
	}
	// vigil reaches NATS and DNS (its egress is restricted).
	egress := fmt.Sprint(dig(objs["NetworkPolicy/vigil"], "spec", "egress"))
	for _, want := range []string{"port:4222", "port:53"} {
		if !strings.Contains(egress, want) {
			t.Errorf("NetworkPolicy/vigil egress lacks %s: %s", want, egress)
		}
	}
}

// emptySelector reports whether a label selector selects everything.
func emptySelector(sel map[string]any) bool {
	ml, _ := sel["matchLabels"].(map[string]any)
	me, _ := sel["matchExpressions"].([]any)
	return len(ml) == 0 && len(me) == 0
}

// TestK8sImagesPinned: every image has an explicit tag other than latest
// and is pulled only if not present.
func TestK8sImagesPinned(t *testing.T) {
	for name, tmpl := range workloads(loadDocs(t, "k8s/*.yaml")) {
		cs, _ := dig(tmpl, "spec", "containers").([]any)
		ics, _ := dig(tmpl, "spec", "initContainers").([]any)
		for _, c := range append(cs, ics...) {
			img := fmt.Sprint(dig(c, "image"))
			ref := img[strings.LastIndex(img, "/")+1:]
			_, tag, ok := strings.Cut(ref, ":")
			if !ok || tag == "" || tag == "latest" {
				t.Errorf("%s: image %s has no pinned tag", name, img)
			}
			if dig(c, "imagePullPolicy") != "IfNotPresent" {
				t.Errorf("%s: image %s imagePullPolicy %v, want IfNotPresent", name, img, dig(c, "imagePullPolicy"))
			}
		}
	}
}
