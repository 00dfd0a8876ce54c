// Package config is vigil's one way in for configuration: it parses the
// YAML file (unknown keys are errors naming their path and line), applies
// decodes it over the defaults (Default, DefaultCamera, DefaultSink: each
// key's default is in its doc comment), fills the few keys whose default
// follows other keys or whose 0 stands for the default (Derive), and
// validates once (Validate), with documented ranges. Components receive
// values that are already complete and valid.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigil-video/vigil/redact"
)

// Config is the engine's configuration file. Load and Parse decode it over
// Default and validate it; a Config built in Go starts from Default (and
// DefaultCamera for each camera). Unknown keys are errors.
type Config struct {
	// Listen is the HTTP address of /metrics, /livez, /readyz and /api.
	// It defaults to "127.0.0.1:9108".
	Listen string `yaml:"listen"`
	// Workers is the size of the decode and analysis pool shared by all
	// cameras: 1 to 1024. A change needs a restart.
	// It defaults to GOMAXPROCS, at most 1024 (also when 0).
	Workers int `yaml:"workers"`
	// QueueMemoryMB bounds the compressed video waiting in all queues
	// together: 1 to 16384 (16 GiB). It is a bound, not a reservation. A
	// change needs a restart.
	// It defaults to 256 (also when 0).
	QueueMemoryMB int `yaml:"queue_memory_mb"`
	// StreamMemoryMB bounds the estimated decoder memory of all cameras
	// together (each camera's under cameras[].limits.memory_mb): a stream
	// that would take more is refused (state failed, reason over_limit)
	// before any decoder sees it: 16 to 1048576. A change needs a restart.
	// It defaults to half the memory of the machine or of the process's
	// cgroup, at least 256 (also when 0).
	StreamMemoryMB int `yaml:"stream_memory_mb"`
	// StartSpread staggers the cameras' first connections over this window:
	// 0 to 5m.
	// It defaults to 10ms per camera, at most 5s (also when 0; set by
	// Derive, which Parse calls: Default, knowing no camera, has 0).
	StartSpread time.Duration `yaml:"start_spread"`
	// WebConfigFile is a Prometheus exporter-toolkit web configuration
	// (TLS, basic auth) for the HTTP endpoints. A change needs a restart.
	// It defaults to none: plain HTTP without authentication.
	WebConfigFile string `yaml:"web_config_file"`
	// HTTP bounds the HTTP clients (timeouts, connection cap, failed
	// authentications, authentication cache); see HTTPConfig. A change
	// needs a restart.
	HTTP HTTPConfig `yaml:"http"`
	// Pprof serves Go's profiler under /debug/pprof/ on the HTTP address.
	// A change needs a restart.
	// It defaults to false.
	Pprof bool `yaml:"pprof"`
	// Outbox is the durable event store; see Outbox. A change needs a
	// restart (a reload changing it is refused).
	Outbox Outbox `yaml:"outbox"`
	// Sinks receive every incident event (stdout, file, webhook, mqtt,
	// nats); see Sink and its kinds. At least one. A change needs a
	// restart (a reload changing it is refused).
	// It defaults to one stdout sink.
	Sinks []Sink `yaml:"sinks"`
	// Evidence is where incident snapshots are kept; see Evidence. A
	// change needs a restart (a reload changing it is refused).
	Evidence Evidence `yaml:"evidence"`
	// History keeps the incidents GET /api/incidents serves across
	// restarts; see History. A change needs a restart (a reload changing
	// it is refused).
	History History `yaml:"history"`
	// Objects is the object detector shared by all cameras; see
	// ObjectsConfig.
	Objects ObjectsConfig `yaml:"objects"`
	// Cameras lists the cameras. At least one is required, except in a
	// cluster, where a node may run none of them.
	Cameras []Camera `yaml:"cameras"`
	// Cluster, when set, shares the cameras among every process with the
	// same list (see Cluster). It defaults to none: this process runs
	// every camera.
	Cluster *Cluster `yaml:"cluster"`
}

// Camera is one camera. Every field but id and url is optional.
type Camera struct {
	// ID names the camera in events, metrics and the API: 1 to 64 of
	// [A-Za-z0-9_.-]. Required, unique.
	ID string `yaml:"id"`
	// URL is the rtsp:// or rtsps:// address; it may carry credentials. A
	// port, when given, is 1 to 65535. Required.
	URL string `yaml:"url"`
	// Username and Password replace the URL's credentials when set.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Transport is "tcp" or "udp".
	// It defaults to "tcp".
	Transport string `yaml:"transport"`
	// CAFile is a PEM bundle trusted for rtsps. It defaults to the system roots.
	CAFile string `yaml:"ca_file"`
	// TLSSkipVerify disables certificate checks for this camera's rtsps.
	// It defaults to false.
	TLSSkipVerify bool `yaml:"tls_skip_verify"`
	// StallTimeout: no video for this long on an open connection
	// reconnects: 100ms to 10m.
	// It defaults to 5s.
	StallTimeout time.Duration `yaml:"stall_timeout"`
	// ConnectTimeout bounds everything from the TCP connect to the first
	// frame (TLS handshake, RTSP requests, first frame); each request and
	// read is also bounded by 10s: 100ms to 10m.
	// It defaults to 20s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// OfflineGrace: a camera unreachable or stalled for this long raises a
	// camera_offline incident, which ends when video flows again: 0 to 24h.
	// It defaults to 10s.
	OfflineGrace time.Duration `yaml:"offline_grace"`
	// HealthUpdateInterval: an open camera_offline or analysis_stalled
	// incident sends at most one update event per interval (a reconnect
	// storm changes its cause at every attempt); the latest cause goes out
	// when it passes: 1s to 1h.
	// It defaults to 30s.
	HealthUpdateInterval time.Duration `yaml:"health_update_interval"`
	// BackoffMin and BackoffMax bound the wait between reconnections: it
	// doubles from BackoffMin to BackoffMax, each wait drawn from [d/2, d].
	// BackoffMin is 1ms to 1h, BackoffMax BackoffMin to 1h.
	// They default to 1s and 30s.
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// AnalysisWidth is the width of the grayscale analysis frame (the
	// height keeps the aspect ratio): 16 to 1920.
	// It defaults to 320.
	AnalysisWidth int `yaml:"analysis_width"`
	// AnalysisFPS is the analysis rate; every frame is still decoded as the
	// reference chain needs: above 0, at most 60.
	// It defaults to 5.
	AnalysisFPS float64 `yaml:"analysis_fps"`
	// QueueFrames bounds the access units waiting for this camera: 1 to
	// 100000. Slots are allocated as units arrive, not up front.
	// It defaults to 100 (4 s at 25 fps).
	QueueFrames int `yaml:"queue_frames"`
	// QueueBytes bounds the bytes waiting for this camera: 65536 to
	// 1073741824 (1 GiB); queue_memory_mb bounds all cameras together.
	// It defaults to 8 MiB.
	QueueBytes int `yaml:"queue_bytes"`
	// DecodeMode is "all" (decode every frame), "keyframes" (keyframes
	// only) or "auto" (keyframes while the bitstream is idle, everything
	// while it is active or an incident is open, catching up from the last
	// keyframe on waking).
	// It defaults to "auto".
	DecodeMode string `yaml:"decode_mode"`
	// Limits bound the stream's picture size (max_width, max_height),
	// chroma (max_chroma), bit depth (max_bit_depth), references
	// (max_ref_frames) and estimated decoder memory (memory_mb); a stream
	// over them is refused (state failed, reason over_limit, retried on a
	// long backoff). See Limits for the ranges; the defaults are
	// 4096x2160, 4:2:0, 8-bit, 8 references, 256 MiB.
	Limits Limits `yaml:"limits"`
	// Activity tunes mode auto's compressed-domain activity signal; see
	// Activity for the keys and defaults.
	Activity Activity `yaml:"activity"`
	// Analysis holds the detectors' keys (motion, masks, zones, tamper,
	// person), at the camera's level in YAML; see Analysis for their
	// defaults and ranges.
	Analysis `yaml:",inline"`
}

// Decode modes (camera key decode_mode).
const (
	// ModeAll decodes every access unit.
	ModeAll = "all"
	// ModeKeyframes decodes keyframes only.
	ModeKeyframes = "keyframes"
	// ModeAuto decodes keyframes while the camera is idle and everything
	// while the bitstream's activity signal (or the analyzer) says
	// something happens, catching up from the last keyframe on waking.
	ModeAuto = "auto"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Caps of the files the configuration names (ReadRegularFile): the
// configuration itself (64 MiB; 10,000 cameras take about 1.2 MB),
// web_config_file (1 MiB) and a camera's ca_file (8 MiB; a whole system
// bundle is about 200 KB).
const (
	MaxConfigBytes    = 64 << 20
	MaxWebConfigBytes = 1 << 20
	MaxPEMBytes       = 8 << 20
)

// Load reads, defaults and validates a configuration file: a regular file
// of at most MaxConfigBytes (ReadRegularFile).
func Load(path string) (Config, error) {
	b, err := ReadRegularFile(path, MaxConfigBytes)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse parses, defaults and validates a configuration document.
// Errors name the YAML key (and the camera) at fault. No error shows a
// value holding an "@" (it may be a URL with credentials in the wrong
// place): whatever the check that failed, such words are hidden.
func Parse(b []byte) (Config, error) {
	cfg, err := parse(b)
	if err != nil && strings.Contains(err.Error(), "@") {
		err = &hiddenError{msg: userinfoWord.ReplaceAllString(err.Error(), "(value hidden)"), err: err}
	}
	return cfg, err
}

// userinfoWord is a word of an error message holding an "@".
var userinfoWord = regexp.MustCompile("[^\\s\"'()`]*@[^\\s\"'()`]*")

// hiddenError is an error whose message had values hidden; it still
// unwraps to the original for errors.Is.
type hiddenError struct {
	msg string
	err error
}

func (e *hiddenError) Error() string { return e.msg }
func (e *hiddenError) Unwrap() error { return e.err }

func parse(b []byte) (Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return Config{}, YAMLError(err)
	}
	if len(root.Content) == 0 {
		return Config{}, errors.New("empty document")
	}
	if err := checkKeys(root.Content[0], typeOf[Config](), ""); err != nil {
		return Config{}, err
	}
	var refs []ref
	if err := expandRefs(&root, "", &refs); err != nil {
		return Config{}, err
	}
	cfg := Default()
	if err := root.Decode(&cfg); err != nil { // unknown keys were refused above
		return Config{}, hideRefValues(YAMLError(err), refs)
	}
	cfg.Derive()
	if err := cfg.Validate(); err != nil {
		return Config{}, hideRefValues(err, refs)
	}
	return cfg, nil
}

// quotedUserinfo matches a value yaml.v3 quotes in its errors that holds
// an "@": it may be a URL with credentials put where another type belongs.
var quotedUserinfo = regexp.MustCompile("`[^`]*@[^`]*`")

// YAMLError returns a yaml.v3 error with the values holding an "@" that it
// quotes hidden (any other value is shown, to help find the mistake).
func YAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return errors.New("yaml: " + quotedUserinfo.ReplaceAllString(msg, "(value hidden)"))
}

// UnmarshalYAML fills unset camera fields with their defaults.
func (c *Camera) UnmarshalYAML(n *yaml.Node) error {
	type plain Camera
	p := plain(DefaultCamera())
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = Camera(p)
	return nil
}

// DefaultCamera returns a camera with every optional field at its default.
func DefaultCamera() Camera {
	return Camera{
		Transport:      "tcp",
		DecodeMode:     ModeAuto,
		StallTimeout:   5 * time.Second,
		ConnectTimeout: 20 * time.Second,
		OfflineGrace:   10 * time.Second,
		BackoffMin:     time.Second,
		BackoffMax:     30 * time.Second,
		AnalysisWidth:  320,
		AnalysisFPS:    5,
		QueueFrames:    100,
		QueueBytes:     8 << 20,
		Limits:         DefaultLimits(),
		Activity:       DefaultActivity(),
		Analysis:       DefaultAnalysis(),

		HealthUpdateInterval: 30 * time.Second,
	}
}

// Ranges of the numeric keys, checked by Validate (and documented on the
// fields and in the README). They keep every valid value safe to run and to
// reload: nothing sized by a key can exhaust memory.
const (
	maxWorkers        = 1024
	maxQueueMemoryMB  = 16 << 10 // 16 GiB
	maxStartSpread    = 5 * time.Minute
	minStreamMemoryMB = 16
	maxStreamMemoryMB = 1 << 20 // 1 TiB
	maxQueueFrames    = 100_000
	minQueueBytes     = 64 << 10
	maxQueueBytes     = 1 << 30
	minStallTimeout   = 100 * time.Millisecond
	maxStallTimeout   = 10 * time.Minute
	maxOfflineGrace   = 24 * time.Hour
	minHealthUpdate   = time.Second
	maxHealthUpdate   = time.Hour
	minBackoff        = time.Millisecond
	maxBackoff        = time.Hour
	minAnalysisWidth  = 16
	maxAnalysisWidth  = 1920
	maxAnalysisFPS    = 60
)

// DefaultStartSpread is start_spread's default for n cameras: 10ms per
// camera, at most 5s.
func DefaultStartSpread(n int) time.Duration {
	return min(time.Duration(n)*10*time.Millisecond, 5*time.Second)
}

// Default returns the engine's configuration with every key at its
// default and no camera: what an empty file would give, but for
// start_spread, which Derive sets from the camera count.
func Default() Config {
	return Config{
		Listen:         "127.0.0.1:9108",
		Workers:        defaultWorkers(),
		QueueMemoryMB:  256,
		StreamMemoryMB: defaultStreamMemoryMB(),
		HTTP:           DefaultHTTP(),
		Outbox:         DefaultOutbox(),
		Sinks:          []Sink{DefaultSink(SinkStdout)},
		Evidence:       DefaultEvidence(),
		History:        DefaultHistory(),
		Objects:        DefaultObjects(),
	}
}

func defaultWorkers() int { return min(runtime.GOMAXPROCS(0), maxWorkers) }

// Derive sets the keys whose default follows other keys (start_spread from
// the camera count, cluster.renew_interval and cluster.settle from
// cluster.lease_ttl, cluster.advertise from listen) and replaces the zeros
// that the keys' comments document as standing for their default
// ("also when 0": workers, queue_memory_mb, stream_memory_mb,
// start_spread, outbox.max_lag, evidence.max_bytes, evidence.max_age,
// history.max_bytes, history.max_age, the
// http keys but login_cache_ttl, objects' numbers and labels, the cluster
// keys, the sinks' keys that follow others: Sink.DeriveFor with Node). Parse calls it after decoding; a Config built in Go from Default
// needs it only for start_spread and the cluster section.
func (c *Config) Derive() {
	d := Default()
	zero := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	zero(&c.Workers, d.Workers)
	zero(&c.QueueMemoryMB, d.QueueMemoryMB)
	zero(&c.StreamMemoryMB, d.StreamMemoryMB)
	if c.StartSpread == 0 {
		c.StartSpread = DefaultStartSpread(len(c.Cameras))
	}
	if c.Outbox.MaxLag == 0 {
		c.Outbox.MaxLag = d.Outbox.MaxLag
	}
	if c.Evidence.MaxBytes == 0 {
		c.Evidence.MaxBytes = d.Evidence.MaxBytes
	}
	if c.Evidence.MaxAge == 0 {
		c.Evidence.MaxAge = d.Evidence.MaxAge
	}
	c.History.derive(d.History)
	c.HTTP.derive(d.HTTP)
	c.Objects.derive(d.Objects)
	if c.Cluster != nil {
		c.Cluster.derive(c.Listen)
	}
	for i := range c.Sinks {
		c.Sinks[i].DeriveFor(c.Node())
	}
}

// Node names this engine among those sharing a configuration (the default
// mqtt client_id ends with it): cluster.node_id in a cluster, else the host
// name (HostNode).
func (c *Config) Node() string {
	if c.Cluster != nil && c.Cluster.NodeID != "" {
		return c.Cluster.NodeID
	}
	return HostNode()
}

// Validate checks the whole configuration; the error names the key.
func (c *Config) Validate() error {
	if len(c.Cameras) == 0 && c.Cluster == nil {
		return errors.New("cameras: at least one camera is required")
	}
	if c.Cluster != nil {
		if err := c.Cluster.validate(); err != nil {
			return err
		}
	}
	switch {
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("workers: %d is not in 1..%d (0 means GOMAXPROCS)", c.Workers, maxWorkers)
	case c.QueueMemoryMB < 1 || c.QueueMemoryMB > maxQueueMemoryMB:
		return fmt.Errorf("queue_memory_mb: %d is not in 1..%d (0 means 256)", c.QueueMemoryMB, maxQueueMemoryMB)
	case c.StreamMemoryMB < minStreamMemoryMB || c.StreamMemoryMB > maxStreamMemoryMB:
		return fmt.Errorf("stream_memory_mb: %d is not in %d..%d (0 means half the memory)", c.StreamMemoryMB, minStreamMemoryMB, maxStreamMemoryMB)
	case c.StartSpread < 0 || c.StartSpread > maxStartSpread:
		return fmt.Errorf("start_spread: %s is not in 0..%s", c.StartSpread, maxStartSpread)
	}
	if err := c.Objects.validate(); err != nil {
		return err
	}
	if err := c.HTTP.validate(); err != nil {
		return err
	}
	if err := validateSinks(c.Sinks); err != nil {
		return err
	}
	if err := validateOutbox(c.Outbox); err != nil {
		return err
	}
	if err := validateEvidence(c.Evidence); err != nil {
		return err
	}
	if err := validateHistory(c.History); err != nil {
		return err
	}
	if c.WebConfigFile != "" {
		// Its content (TLS, users, bcrypt hashes) is judged by
		// exporter-toolkit, which only api links (api.CheckWebConfig; the
		// engine refuses to start on it, check-config reports it): config
		// stays light.
		if _, err := ReadRegularFile(c.WebConfigFile, MaxWebConfigBytes); err != nil {
			return fmt.Errorf("web_config_file: %w", err)
		}
	}
	seen := map[string]int{}
	for i := range c.Cameras {
		cam := &c.Cameras[i]
		at := fmt.Sprintf("cameras[%d]", i)
		if !idPattern.MatchString(cam.ID) {
			// An id with an "@" may be a URL with credentials pasted in the
			// wrong key: it is not echoed.
			shown := fmt.Sprintf("%q", cam.ID)
			if strings.Contains(cam.ID, "@") {
				shown = "(value hidden: it holds an @)"
			}
			return fmt.Errorf("%s.id: %s must be 1 to 64 of A-Z a-z 0-9 _ . -", at, shown)
		}
		at = fmt.Sprintf("cameras[%d] (id %q)", i, cam.ID)
		if j, dup := seen[cam.ID]; dup {
			return fmt.Errorf("%s.id: duplicate of cameras[%d]", at, j)
		}
		seen[cam.ID] = i
		if cam.URL == "" {
			return fmt.Errorf("%s.url: required", at)
		}
		if err := checkPort(cam.URL); err != nil {
			return fmt.Errorf("%s.url: %w", at, err)
		}
		if err := CheckURL(cam.URL); err != nil {
			return fmt.Errorf("%s.url: %w", at, err)
		}
		if cam.Transport != "tcp" && cam.Transport != "udp" {
			return fmt.Errorf("%s.transport: %q is not tcp or udp", at, cam.Transport)
		}
		if cam.CAFile != "" {
			pem, err := ReadRegularFile(cam.CAFile, MaxPEMBytes)
			if err != nil {
				return fmt.Errorf("%s.ca_file: %w", at, err)
			}
			if !x509.NewCertPool().AppendCertsFromPEM(pem) {
				return fmt.Errorf("%s.ca_file: %s: no PEM certificate found", at, cam.CAFile)
			}
		}
		switch {
		case cam.AnalysisWidth < minAnalysisWidth || cam.AnalysisWidth > maxAnalysisWidth:
			return fmt.Errorf("%s.analysis_width: %d is not in %d..%d", at, cam.AnalysisWidth, minAnalysisWidth, maxAnalysisWidth)
		case !(cam.AnalysisFPS > 0 && cam.AnalysisFPS <= maxAnalysisFPS): // also NaN
			return fmt.Errorf("%s.analysis_fps: %g is not in (0, %d]", at, cam.AnalysisFPS, maxAnalysisFPS)
		case cam.QueueFrames < 1 || cam.QueueFrames > maxQueueFrames:
			return fmt.Errorf("%s.queue_frames: %d is not in 1..%d", at, cam.QueueFrames, maxQueueFrames)
		case cam.QueueBytes < minQueueBytes || cam.QueueBytes > maxQueueBytes:
			return fmt.Errorf("%s.queue_bytes: %d is not in %d..%d", at, cam.QueueBytes, minQueueBytes, maxQueueBytes)
		case cam.StallTimeout < minStallTimeout || cam.StallTimeout > maxStallTimeout:
			return fmt.Errorf("%s.stall_timeout: %s is not in %s..%s", at, cam.StallTimeout, minStallTimeout, maxStallTimeout)
		case cam.ConnectTimeout < minStallTimeout || cam.ConnectTimeout > maxStallTimeout:
			return fmt.Errorf("%s.connect_timeout: %s is not in %s..%s", at, cam.ConnectTimeout, minStallTimeout, maxStallTimeout)
		case cam.DecodeMode != ModeAll && cam.DecodeMode != ModeKeyframes && cam.DecodeMode != ModeAuto:
			return fmt.Errorf("%s.decode_mode: %q is not all, keyframes or auto", at, cam.DecodeMode)
		case cam.OfflineGrace < 0 || cam.OfflineGrace > maxOfflineGrace:
			return fmt.Errorf("%s.offline_grace: %s is not in 0s..%s", at, cam.OfflineGrace, maxOfflineGrace)
		case cam.HealthUpdateInterval < minHealthUpdate || cam.HealthUpdateInterval > maxHealthUpdate:
			return fmt.Errorf("%s.health_update_interval: %s is not in %s..%s", at, cam.HealthUpdateInterval, minHealthUpdate, maxHealthUpdate)
		case cam.BackoffMin < minBackoff || cam.BackoffMin > maxBackoff:
			return fmt.Errorf("%s.backoff_min: %s is not in %s..%s", at, cam.BackoffMin, minBackoff, maxBackoff)
		case cam.BackoffMax < cam.BackoffMin:
			return fmt.Errorf("%s.backoff_max: %s is below backoff_min %s", at, cam.BackoffMax, cam.BackoffMin)
		case cam.BackoffMax > maxBackoff:
			return fmt.Errorf("%s.backoff_max: %s is not in backoff_min..%s", at, cam.BackoffMax, maxBackoff)
		}
		if err := cam.Limits.validate(); err != nil {
			return fmt.Errorf("%s.limits.%w", at, err)
		}
		if err := cam.Activity.validate(); err != nil {
			return fmt.Errorf("%s.activity.%w", at, err)
		}
		if err := cam.Analysis.Validate(); err != nil {
			return fmt.Errorf("%s.%w", at, err)
		}
	}
	return nil
}

// checkPort refuses a URL whose port is not 1..65535 (net/url only checks
// that it is digits): such a camera could never connect.
func checkPort(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // CheckURL reports it, hiding the credentials
	}
	p := u.Port()
	if p == "" {
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not in 1..65535", p)
	}
	return nil
}

// CheckURL reports whether raw can be a camera's address: an rtsp:// or
// rtsps:// URL with a host, no opaque part and no fragment. The error
// shows the URL without credentials.
func CheckURL(raw string) error {
	red := redact.URL(raw)
	pu, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: cannot parse", red)
	}
	if pu.Scheme != "rtsp" && pu.Scheme != "rtsps" {
		return fmt.Errorf("%s: scheme %q is not supported (want rtsp or rtsps)", red, pu.Scheme)
	}
	if pu.Host == "" {
		return fmt.Errorf("%s: no host", red)
	}
	if pu.Opaque != "" || pu.Fragment != "" {
		return fmt.Errorf("%s: cannot parse", red)
	}
	return nil
}
