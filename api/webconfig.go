package api

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"
	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/config"
)

// webGuard makes the web configuration (web_config_file) fail closed.
// It keeps the basic auth users itself (currentUsers, for authenticator)
// and gives exporter-toolkit the rest (TLS, headers).
// exporter-toolkit re-reads its file on every request and takes an empty
// or vanished file as "no authentication"; so it is given a private copy
// instead, which webGuard replaces only with a content that validates and
// removes neither the basic auth nor the TLS that is running (turning them
// off needs a restart). Any other content keeps the last good copy, is
// logged and counted in vigil_web_config_errors_total, and holds
// vigil_web_config_last_change_successful at 0 until a good content is
// applied. The configured file is checked every interval.
type webGuard struct {
	src    string // the configured file
	dir    string // private directory of the copy
	served string // the copy exporter-toolkit reads
	log    *slog.Logger
	errs   prometheus.Counter
	ok     prometheus.Gauge

	// users are the basic auth users of the served configuration (user →
	// bcrypt hash), checked by authenticator: the copy exporter-toolkit
	// reads has none, so that its one-at-a-time bcrypt check never runs.
	users atomic.Pointer[map[string]string]

	mu        sync.Mutex // guards the fields below
	seen      []byte     // the content last checked (nil: unreadable)
	seenErr   string     // the read error last reported
	auth, tls bool       // of the served copy

	stop chan struct{}
	done chan struct{}
}

// startWebGuard copies src (which must validate) and watches it until
// close.
// CheckWebConfig reports whether the web configuration file at path (TLS,
// basic auth) is one the server would start with: the same checks as at
// start, without serving it. An empty path is no web configuration.
func CheckWebConfig(path string) error {
	if path == "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "vigil-web-")
	if err != nil {
		return fmt.Errorf("web_config_file: %w", err)
	}
	defer os.RemoveAll(dir)
	g := &webGuard{src: path, dir: dir, served: filepath.Join(dir, "web.yml")}
	b, err := config.ReadRegularFile(path, config.MaxWebConfigBytes)
	if err == nil {
		err = g.accept(b, true)
	}
	if err != nil {
		return fmt.Errorf("web_config_file: %s: %w", path, err)
	}
	return nil
}

func startWebGuard(src string, interval time.Duration, log *slog.Logger, errs prometheus.Counter, ok prometheus.Gauge) (*webGuard, error) {
	dir, err := os.MkdirTemp("", "vigil-web-")
	if err != nil {
		return nil, fmt.Errorf("web_config_file: %w", err)
	}
	g := &webGuard{src: src, dir: dir, served: filepath.Join(dir, "web.yml"), log: log, errs: errs, ok: ok,
		stop: make(chan struct{}), done: make(chan struct{})}
	b, err := config.ReadRegularFile(src, config.MaxWebConfigBytes)
	if err == nil {
		err = g.accept(b, true)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("web_config_file: %s: %w", src, err)
	}
	g.seen = b
	go g.run(interval)
	return g, nil
}

func (g *webGuard) run(interval time.Duration) {
	defer close(g.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.check()
		}
	}
}

// check applies the configured file if it changed; a bad content is
// reported once (log and metric) and the last good copy stays served.
func (g *webGuard) check() {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, err := config.ReadRegularFile(g.src, config.MaxWebConfigBytes)
	if err != nil {
		if g.seen == nil && g.seenErr == err.Error() {
			return
		}
		g.seen, g.seenErr = nil, err.Error()
	} else {
		if g.seen != nil && bytes.Equal(b, g.seen) {
			return
		}
		g.seen, g.seenErr = b, ""
		if err = g.accept(b, false); err == nil {
			g.ok.Set(1)
			g.log.Info("web configuration applied", "key", "web_config_file", "path", g.src)
			return
		}
	}
	g.errs.Inc()
	g.ok.Set(0)
	g.log.Error("web configuration not applied; keeping the last good one", "key", "web_config_file", "path", g.src, "error", err)
}

// accept validates content and makes it the served copy. Unless first, it
// refuses a content that turns off the running basic auth or TLS.
func (g *webGuard) accept(content []byte, first bool) error {
	out, users, tls, err := absWebConfig(content, filepath.Dir(g.src))
	if err != nil {
		return err
	}
	auth := len(users) > 0
	if !first {
		if len(bytes.TrimSpace(content)) == 0 && (g.auth || g.tls) {
			return errors.New("the file is empty: turning authentication or TLS off needs a restart")
		}
		if g.auth && !auth {
			return errors.New("basic_auth_users: removing authentication needs a restart")
		}
		if g.tls && !tls {
			return errors.New("tls_server_config: removing TLS needs a restart")
		}
	}
	// The whole content is validated (bcrypt hashes included); the served
	// copy is the same without basic_auth_users.
	f, err := g.write(out)
	if err == nil {
		err = web.Validate(f)
		os.Remove(f)
	}
	if err != nil {
		return err
	}
	served, err := withoutUsers(out)
	if err != nil {
		return err
	}
	f, err = g.write(served)
	if err == nil {
		err = os.Rename(f, g.served)
	}
	if err != nil {
		os.Remove(f)
		return err
	}
	g.users.Store(&users)
	g.auth, g.tls = auth, tls
	return nil
}

// write writes content to a new file in the private directory.
func (g *webGuard) write(content []byte) (string, error) {
	f, err := os.CreateTemp(g.dir, ".next-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// currentUsers returns the basic auth users in force (user → bcrypt hash;
// empty: no authentication). The map is never modified.
func (g *webGuard) currentUsers() map[string]string {
	if g == nil {
		return nil
	}
	if p := g.users.Load(); p != nil {
		return *p
	}
	return nil
}

// withoutUsers returns a web configuration without its basic_auth_users.
func withoutUsers(content []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return content, nil //nolint:nilerr // no mapping, no users (validated before)
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "basic_auth_users" {
			top.Content = append(top.Content[:i], top.Content[i+2:]...)
			break
		}
	}
	return yaml.Marshal(&doc)
}

// close stops watching and removes the copy.
func (g *webGuard) close() {
	close(g.stop)
	<-g.done
	os.RemoveAll(g.dir)
}

// absWebConfig returns an exporter-toolkit web configuration with its
// relative file paths (tls_server_config's cert_file, key_file,
// client_ca_file, relative to the file's directory dir) made absolute, so
// that a copy elsewhere means the same; its basic auth users; and whether
// it has a TLS certificate.
func absWebConfig(content []byte, dir string) (out []byte, users map[string]string, tls bool, err error) {
	var probe struct {
		TLS struct {
			Cert     string `yaml:"cert"`
			CertFile string `yaml:"cert_file"`
		} `yaml:"tls_server_config"`
		Users map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(content, &probe); err != nil {
		return nil, nil, false, config.YAMLError(err)
	}
	users, tls = probe.Users, probe.TLS.Cert != "" || probe.TLS.CertFile != ""
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return content, users, tls, nil // nothing to rewrite; web.Validate judges it
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "tls_server_config" || top.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := top.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			switch v := m.Content[j+1]; m.Content[j].Value {
			case "cert_file", "key_file", "client_ca_file":
				if v.Kind == yaml.ScalarNode && v.Value != "" && !filepath.IsAbs(v.Value) {
					v.Value = filepath.Join(dir, v.Value)
				}
			}
		}
	}
	out, err = yaml.Marshal(&doc)
	return out, users, tls, err
}
