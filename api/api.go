// Package api serves vigil's HTTP endpoints: /metrics, /livez, /readyz,
// the operator console (/, package console) and the JSON API (cameras,
// snapshots, evidence, incidents, live events),
// described by the OpenAPI 3.1 document it serves (openapi.json). It
// consumes the small Engine interface it declares, and serves with
// Prometheus exporter-toolkit's TLS and basic auth (web_config_file), which
// fails closed (see webGuard); the probes, /livez and /readyz, answer
// without credentials (see probesOpen).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/vigil-video/vigil/config"
	"github.com/vigil-video/vigil/console"
)

// Engine is what the API needs of the engine. Its methods are safe for
// concurrent use.
type Engine interface {
	// Cameras returns every camera's status, sorted by id.
	Cameras() []CameraStatus
	// Camera returns one camera's status.
	Camera(id string) (CameraStatus, bool)
	// Snapshot returns the camera's next analyzed frame as a JPEG, waiting
	// up to wait; ErrNoCamera for an unknown id.
	Snapshot(ctx context.Context, id string, wait time.Duration) ([]byte, error)
	// Ready says why the engine is not ready (nil when it is).
	Ready() error
}

// Evidence opens incident snapshots (evidence.Store).
type Evidence interface {
	// Open opens a snapshot by its camera and file name.
	Open(camera, name string) (*os.File, error)
	// OpenIncident opens an incident's best snapshot.
	OpenIncident(incidentID string) (*os.File, error)
}

// ErrNoCamera is returned by Engine.Snapshot for an unknown camera.
var ErrNoCamera = errors.New("no such camera")

// Config configures Start.
type Config struct {
	// Listen is the TCP address. Required.
	Listen string
	// WebConfigFile is an exporter-toolkit web configuration (TLS, basic
	// auth); empty serves plain HTTP without authentication.
	WebConfigFile string
	// Pprof serves Go's profiler under /debug/pprof/.
	Pprof bool
	// Registry is served on /metrics. Required.
	Registry *prometheus.Registry
	// Incidents and Live, when set, serve /api/incidents and /api/events
	// (Live its stream; Incidents, when it is an IncidentRecords, Frigate's
	// event list). A Live that is an *EventHub is closed when the server
	// stops (Close), which ends its streams.
	Incidents, Live http.Handler
	// Evidence, when set, serves /api/evidence/{camera}/{file}.
	Evidence Evidence
	// Cluster, when set, serves /api/cluster (the nodes sharing the
	// cameras, package cluster).
	Cluster http.Handler
	// Limits bounds the clients: timeouts, connection cap, failed
	// authentications, authentication cache (config.HTTPConfig; zero
	// values take config.DefaultHTTP's).
	Limits config.HTTPConfig
	// Logger receives the server's logs; it defaults to discarding them.
	Logger *slog.Logger
}

// maxHeaderBytes bounds a request's headers (Go's default is 1 MiB; the
// API's requests carry a few hundred bytes).
const maxHeaderBytes = 64 << 10

// webCheckInterval is how often web_config_file is checked for changes.
const webCheckInterval = time.Second

// Server is the HTTP server: New builds it, Start listens and serves,
// Close stops it and waits, Wait returns why it stopped.
type Server struct {
	cfg Config
	eng Engine
	log *slog.Logger

	http     *http.Server
	ln       net.Listener
	web      *webGuard // nil without web_config_file
	done     chan struct{}
	err      error // of Serve, read after done
	closeErr error // of Close's shutdown, read after Close
	once     sync.Once
}

// New returns the server of eng; nothing listens until Start.
func New(cfg Config, eng Engine) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, eng: eng, log: log, done: make(chan struct{})}
}

// Start listens and serves; Close stops it. A web_config_file change that
// is refused counts in vigil_web_config_errors_total, registered in
// cfg.Registry. After a failed Start, nothing runs and Close is not needed.
func (s *Server) Start() error {
	cfg, eng, log := s.cfg, s.eng, s.log
	m, err := newServerMetrics(cfg.Registry)
	if err != nil {
		return err
	}
	lim := cfg.Limits
	var wc string // what exporter-toolkit reads: the guarded copy of web_config_file
	if cfg.WebConfigFile != "" {
		g, err := startWebGuard(cfg.WebConfigFile, webCheckInterval, log, m.webErrs, m.webOK)
		if err != nil {
			return err
		}
		s.web, wc = g, g.served
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		if s.web != nil {
			s.web.close()
		}
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	cl := newConnLimiter(ln, lim.MaxConnections, log, m.capReached)
	m.maxConns.Set(float64(lim.MaxConnections))
	cfg.Limits = lim
	var h http.Handler = Routes(cfg, eng)
	if s.web != nil {
		h = probesOpen(h, newAuthenticator(s.web.currentUsers, h, lim.LoginCacheTTL, lim.LoginFailuresBurst, lim.LoginFailuresPerMinute,
			log, m.authFailures, m.authLimited, m.authChecks))
	}
	// ReadTimeout and WriteTimeout are set per request before anything
	// else runs (an unauthenticated request's body, a 401 nobody reads,
	// an unknown path are bounded too), and cleared by the streams after
	// authentication: a server-wide one would cut the event stream.
	inner := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setDeadlines(w, lim.ReadTimeout, lim.WriteTimeout)
		inner.ServeHTTP(w, r)
	})
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: lim.ReadHeaderTimeout, IdleTimeout: lim.IdleTimeout,
		MaxHeaderBytes: maxHeaderBytes, ErrorLog: serverErrorLog(log), ConnState: func(c net.Conn, st http.ConnState) {
			cl.connState(c, st)
			m.conns(st)
		}}
	// A live stream never ends by itself: without this, Shutdown would
	// wait its full 5 s for every open console or SSE client and Wait
	// would report it. The hub lets its clients go (they reconnect to the
	// next engine with Last-Event-ID) and refuses new ones.
	if hub, ok := cfg.Live.(*EventHub); ok {
		s.http.RegisterOnShutdown(hub.Close)
	}
	log.Info("http limits", "max_connections", lim.MaxConnections, "read_header_timeout", lim.ReadHeaderTimeout,
		"idle_timeout", lim.IdleTimeout, "read_timeout", lim.ReadTimeout, "write_timeout", lim.WriteTimeout)
	go func() {
		defer close(s.done)
		if err := web.Serve(cl, s.http, &web.FlagConfig{WebConfigFile: &wc}, log); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server failed", "error", err)
			s.err = err
		}
	}()
	return nil
}

// probesOpen serves the probes, GET /livez and /readyz, without
// authentication (a kubelet's or load balancer's probe carries no
// credentials) and everything else through authed. Their bodies hold no
// secret: "ok", or which readiness check fails (starting, shutting down,
// the outbox file or the sink that lags). Only the exact paths pass: a
// path the mux would clean or redirect goes through authed.
func probesOpen(open, authed http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/livez" || r.URL.Path == "/readyz" {
			open.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// Addr returns the listener's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Done is closed when the server stops serving (Close, or a failure that
// Wait returns).
func (s *Server) Done() <-chan struct{} { return s.done }

// Wait waits for the server to stop and returns why: its failure, or
// after Close the requests in flight that did not finish in time (nil when
// all did).
func (s *Server) Wait() error {
	<-s.done
	if s.err != nil {
		return s.err
	}
	return s.closeErr
}

// Close stops serving, letting requests in flight finish for up to 5 s,
// and waits; idempotent. Wait returns what did not finish.
func (s *Server) Close() {
	s.once.Do(func() {
		if s.http == nil { // not started
			close(s.done)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.http.Shutdown(ctx); err != nil {
			s.closeErr = fmt.Errorf("http shutdown: %w", err)
		}
		cancel()
		<-s.done
		if s.web != nil {
			s.web.close()
		}
	})
}

// Routes returns the handler of every endpoint, Frigate's among them
// (frigate.go). Each request but the streams gets cfg.Limits' read and
// write deadlines; the streams (/api/events when it streams, the pprof
// profile and trace) get none, so that they run for as long as their
// client reads.
func Routes(cfg Config, eng Engine) http.Handler {
	mux := &deadlineMux{ServeMux: http.NewServeMux(), read: cfg.Limits.ReadTimeout, write: cfg.Limits.WriteTimeout}
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := eng.Ready(); err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: " + err.Error() + "\n")) //nolint:errcheck // the client went away
			return
		}
		w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
	})
	mux.HandleFunc("GET /api/openapi.json", serveOpenAPI)
	// The operator console: its page and its files (package console).
	page := console.Handler()
	mux.Handle("GET /{$}", page)
	mux.Handle("GET /console/{file}", page)
	mux.HandleFunc("GET /api/cameras", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, eng.Cameras())
	})
	mux.HandleFunc("GET /api/cameras/{id}", func(w http.ResponseWriter, r *http.Request) {
		st, ok := eng.Camera(r.PathValue("id"))
		if !ok {
			http.Error(w, "no such camera", http.StatusNotFound)
			return
		}
		writeJSON(w, st)
	})
	if cfg.Incidents != nil {
		mux.Handle("GET /api/incidents", cfg.Incidents)
	}
	if cfg.Cluster != nil {
		mux.Handle("GET /api/cluster", cfg.Cluster)
	}
	if cfg.Evidence != nil {
		mux.HandleFunc("GET /api/evidence/{camera}/{file}", func(w http.ResponseWriter, r *http.Request) {
			f, err := cfg.Evidence.Open(r.PathValue("camera"), r.PathValue("file"))
			if err != nil {
				http.Error(w, "no such evidence", http.StatusNotFound)
				return
			}
			serveJPEG(w, f)
		})
	}
	frigateRoutes(mux, cfg, eng)
	mux.HandleFunc("GET /api/cameras/{id}/snapshot.jpg", func(w http.ResponseWriter, r *http.Request) {
		serveCameraSnapshot(w, r, eng, r.PathValue("id"))
	})
	if cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.stream("GET /debug/pprof/profile", http.HandlerFunc(pprof.Profile))
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.stream("GET /debug/pprof/trace", http.HandlerFunc(pprof.Trace))
	}
	return mux
}

// deadlineMux is a ServeMux that sets each request's read and write
// deadlines (http.ResponseController): now plus read and write for the
// endpoints registered with Handle and HandleFunc, none for those
// registered with stream. A deadline left by an earlier request on the
// same keep-alive connection is always replaced.
type deadlineMux struct {
	*http.ServeMux
	read, write time.Duration // zero: no deadline
	patterns    []string      // registered, in order (the OpenAPI test reads them)
}

func (m *deadlineMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setDeadlines(w, m.read, m.write)
		h.ServeHTTP(w, r)
	}))
}

func (m *deadlineMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// own registers a handler that sets its deadlines itself (setDeadlines):
// one route that is a stream or not by request.
func (m *deadlineMux) own(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// stream registers a streaming endpoint: no deadline.
func (m *deadlineMux) stream(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setDeadlines(w, 0, 0)
		h.ServeHTTP(w, r)
	}))
}

// setDeadlines sets the connection's deadlines from now (zero: none). A
// writer that cannot (a test recorder) is served without.
func setDeadlines(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	var rd, wd time.Time
	if read > 0 {
		rd = time.Now().Add(read)
	}
	if write > 0 {
		wd = time.Now().Add(write)
	}
	rc.SetReadDeadline(rd)  //nolint:errcheck // unsupported by the writer: no deadline
	rc.SetWriteDeadline(wd) //nolint:errcheck // unsupported by the writer: no deadline
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away
}

// serveCameraSnapshot serves the camera's next analyzed frame, waiting up
// to 5 s for it.
func serveCameraSnapshot(w http.ResponseWriter, r *http.Request, eng Engine, id string) {
	jpg, err := eng.Snapshot(r.Context(), id, 5*time.Second)
	if errors.Is(err, ErrNoCamera) {
		http.Error(w, "no such camera", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "no snapshot: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(jpg) //nolint:errcheck // the client went away
}

// serveJPEG copies a snapshot file to the client and closes it.
func serveJPEG(w http.ResponseWriter, f *os.File) {
	defer f.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	io.Copy(w, f) //nolint:errcheck // the client went away
}
