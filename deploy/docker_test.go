package deploy

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dockerReport is deploy/dockerlint's output.
type dockerReport struct {
	Stages []struct {
		Name, Base, User string
		Runs, Copies     []string
		Entrypoint, Cmd  []string
		Env              map[string]string
		Healthcheck      []string
	}
	Warnings []string
}

// TestDockerfile: BuildKit's Dockerfile linter (docker build --check's)
// finds nothing; the build stage is Go on Debian 12, the runtime stage
// debian:12-slim with no development package, running as a non-root user;
// and the runtime packages provide every shared library a vigil built
// here links (this machine is Debian 12 too, so dpkg names the package of
// each).
func TestDockerfile(t *testing.T) {
	dpkg := tool(t, "dpkg-query", "dpkg")
	lint := exec.Command("go", "run", ".", "../Dockerfile")
	lint.Dir = "dockerlint"
	var stderr bytes.Buffer
	lint.Stderr = &stderr
	out, err := lint.Output()
	var rep dockerReport
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		t.Fatalf("dockerlint: %v %v\n%s", err, jerr, stderr.String())
	}
	for _, w := range rep.Warnings {
		t.Errorf("lint: %s", w)
	}
	if err != nil && len(rep.Warnings) == 0 {
		t.Fatalf("dockerlint: %v\n%s", err, stderr.String())
	}
	if len(rep.Stages) != 2 {
		t.Fatalf("%d stages, want build and runtime", len(rep.Stages))
	}
	build, run := rep.Stages[0], rep.Stages[1]
	if !regexp.MustCompile(`^golang:.*-bookworm$`).MatchString(build.Base) || run.Base != "debian:12-slim" {
		t.Errorf("stages from %s and %s, want golang on bookworm and debian:12-slim", build.Base, run.Base)
	}
	if run.User == "" || strings.HasPrefix(run.User, "0") || run.User == "root" {
		t.Errorf("the runtime stage runs as %q, want a non-root user", run.User)
	}
	if !slices.Equal(run.Copies, []string{build.Name + ":/out/vigil", build.Name + ":/out/models/"}) || !slices.Equal(run.Entrypoint, []string{"/usr/local/bin/vigil"}) {
		t.Errorf("runtime copies %v and runs %v, want only the built binary and the object network", run.Copies, run.Entrypoint)
	}
	// The object network is in the image (objects.model follows
	// VIGIL_MODELS), made by scripts/models.sh in the build stage.
	if run.Env["VIGIL_MODELS"] != "/usr/local/share/vigil/models" {
		t.Errorf("runtime VIGIL_MODELS is %q, want the models copied to /usr/local/share/vigil/models", run.Env["VIGIL_MODELS"])
	}
	if !strings.Contains(strings.Join(build.Runs, " "), "scripts/models.sh /out/models") || !slices.Contains(aptPackages(strings.Join(build.Runs, " ")), "npm") {
		t.Errorf("the build stage does not make the object network (npm, scripts/models.sh /out/models): %v", build.Runs)
	}
	// The container's health is the engine's readiness, asked by vigil
	// itself (no curl in the image).
	if !slices.Equal(run.Healthcheck, []string{"CMD", "/usr/local/bin/vigil", "healthcheck"}) {
		t.Errorf("HEALTHCHECK is %q, want vigil healthcheck", run.Healthcheck)
	}
	pkgs := aptPackages(strings.Join(run.Runs, " "))
	for _, p := range pkgs {
		if strings.HasSuffix(p, "-dev") {
			t.Errorf("development package %s in the runtime stage", p)
		}
	}
	for _, p := range []string{"libopencv-dev", "libavcodec-dev", "libswscale-dev"} {
		if !slices.Contains(aptPackages(strings.Join(build.Runs, " ")), p) {
			t.Errorf("the build stage does not install %s", p)
		}
	}

	libs := neededLibraries(t, vigilBin)
	// ONNX Runtime's library, loaded at run time from beside the model,
	// needs its own.
	models := os.Getenv("VIGIL_MODELS")
	if models == "" {
		models = filepath.Join("..", ".cache", "models")
	}
	ort := filepath.Join(models, "libonnxruntime.so.1")
	switch _, err := os.Stat(ort); {
	case err == nil:
		libs = append(libs, neededLibraries(t, ort)...)
	case os.Getenv("VIGIL_REQUIRE_MODELS") != "":
		t.Errorf("ONNX Runtime's library: %v (VIGIL_REQUIRE_MODELS is set; scripts/models.sh makes it)", err)
	default:
		t.Logf("ONNX Runtime's library not checked: %v (scripts/models.sh makes it)", err)
	}
	base := []string{"libc6", "libgcc-s1", "libstdc++6"} // in debian:12-slim
	for _, lib := range libs {
		path, err := exec.Command("sh", "-c", "ldconfig -p | awk -v l="+lib+" '$1==l {print $NF; exit}'").Output()
		if err != nil || len(bytes.TrimSpace(path)) == 0 {
			t.Errorf("%s: not found by ldconfig", lib)
			continue
		}
		real, _ := filepath.EvalSymlinks(string(bytes.TrimSpace(path)))
		owner, err := exec.Command(dpkg, "-S", real).Output()
		if err != nil {
			owner, err = exec.Command(dpkg, "-S", string(bytes.TrimSpace(path))).Output()
		}
		if err != nil {
			t.Errorf("%s (%s): no package owns it", lib, real)
			continue
		}
		pkg := strings.SplitN(strings.TrimSpace(string(owner)), ":", 2)[0]
		if !slices.Contains(pkgs, pkg) && !slices.Contains(base, pkg) {
			t.Errorf("vigil links %s from package %s, which the runtime stage does not install", lib, pkg)
		}
	}
}

// neededLibraries returns the shared libraries the ELF file at path links.
func neededLibraries(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return libs
}

// aptPackages returns the packages of the apt-get install commands in a
// shell script.
func aptPackages(script string) []string {
	var out []string
	for _, seg := range strings.Split(script, "&&") {
		f := strings.Fields(seg)
		i := slices.Index(f, "install")
		if i < 0 || !slices.Contains(f[:i], "apt-get") {
			continue
		}
		for _, w := range f[i+1:] {
			if !strings.HasPrefix(w, "-") {
				out = append(out, w)
			}
		}
	}
	return out
}
