package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/vigil-video/vigil/internal/await"
	"github.com/vigil-video/vigil/internal/testkit"
	"github.com/vigil-video/vigil/service"
	"github.com/vigil-video/vigil/sim"
)

// chromium returns the path of Debian's chromium, or skips the test with
// how to install it; with VIGIL_REQUIRE_TOOLS set (CI), a missing browser
// fails the test instead.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/chromium"); serr == nil {
			return "/usr/bin/chromium"
		}
		if os.Getenv("VIGIL_REQUIRE_TOOLS") != "" {
			t.Fatalf("chromium is not installed (apt-get install chromium) and VIGIL_REQUIRE_TOOLS is set")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	return p
}

// browser starts exe, a chromium, headless, and opens a tab whose HTTP
// authentication challenges are answered as a person at the browser's
// prompt would: with user and pass while creds is true, cancelled
// otherwise. Exceptions thrown by the page and Content-Security-Policy
// violations are collected in problems.
func browser(t *testing.T, exe, user, pass string, creds *atomic.Bool) (ctx context.Context, problems func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1440, 1000))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start chromium: %v", err)
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	challenges := chromedp.Events(ctx, fetch.AuthRequired)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID}) //nolint:errcheck // the tab is closing
		}
	}()
	go func() {
		for ev, err := range challenges {
			if err != nil {
				return
			}
			answer := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
			if creds.Load() {
				answer = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: user, Password: pass}
			}
			chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: answer}) //nolint:errcheck // the tab is closing
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: new(true)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				seen = append(seen, m.String())
				mu.Unlock()
			}
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// wait polls a JavaScript predicate in the page for up to d.
func wait(t *testing.T, ctx context.Context, d time.Duration, what, predicate string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(d))); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		t.Fatalf("waiting %s for %s: %v\npage:\n%s", d, what, err, page)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestConsoleInBrowser runs `vigil run` with basic auth on (web_config_file)
// and three cameras: gate (the moving clip, from the simulator over real
// RTSP), lobby (the still clip) and yard (nothing answers). In headless
// chromium: the console without credentials is refused (401); with them it
// shows each camera's state, figures and picture; a motion incident of
// gate appears while the page is open (from the live stream, without a
// reload) with its snapshot loaded; the camera filter hides yard's
// camera_offline incident and the kind filter gate's motion; the time
// range is asked of the history; the list keeps 200 incidents and shows
// markup in their text as text; after an engine restart the page
// reconnects by itself and shows the new run's incidents. With
// VIGIL_CONSOLE_SCREENSHOT=file.png, it saves a screenshot of the console
// there (docs/console.png).
func TestConsoleInBrowser(t *testing.T) {
	const user, pass = "ops", "console-secret"
	exe := chromium(t)
	dir := t.TempDir()
	srv := testkit.StartSim(t, sim.Camera{Path: "gate", Clip: testkit.Clip(t, "motion")},
		sim.Camera{Path: "lobby", Clip: testkit.Clip(t, "static")})
	listen := testkit.ClosedPort(t)
	cfgPath := filepath.Join(dir, "vigil.yaml")
	yaml := fmt.Sprintf(`listen: %s
web_config_file: %s
start_spread: 1ms
cameras:
  - {id: gate, url: %q}
  - {id: lobby, url: %q}
  - {id: yard, url: "rtsp://%s/x", backoff_min: 100ms, backoff_max: 400ms, offline_grace: 300ms}
`, listen, testkit.BasicAuthWebConfig(t, user, pass), srv.URL("gate"), srv.URL("lobby"), testkit.ClosedPort(t))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- service.Run(ctx, service.Options{ConfigPath: cfgPath, DataDir: filepath.Join(dir, "data"), Events: io.Discard, Logs: io.Discard})
		}()
		var once sync.Once
		return func() {
			t.Helper()
			once.Do(func() {
				cancel()
				select {
				case err := <-done:
					if err != nil { // an open console must not hold or fail the shutdown
						t.Errorf("Run: %v", err)
					}
				case <-time.After(20 * time.Second):
					t.Error("Run did not return within 20 s of its context ending")
				}
			})
		}
	}
	stop := run()
	defer func() { stop() }()
	base := "http://" + listen
	await.Until(t, 20*time.Second, "the API", func() bool {
		res, err := http.Get(base + "/livez")
		if err == nil {
			res.Body.Close()
		}
		return err == nil
	})

	for _, p := range []string{"/", "/console/console.js", "/console/console.css"} {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d, want 401", p, res.StatusCode)
		}
	}

	var creds atomic.Bool
	ctx, problems := browser(t, exe, user, pass, &creds)
	tctx, cancel := context.WithTimeout(ctx, 110*time.Second)
	defer cancel()

	// Without credentials: refused, and no console is shown.
	res, err := chromedp.RunResponse(tctx, chromedp.Navigate(base+"/"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusUnauthorized {
		t.Errorf("the console without credentials: %d, want 401", res.Status)
	}
	if eval[bool](t, tctx, `document.getElementById('cameras') !== null`) {
		t.Error("the console's page is shown without credentials")
	}

	// With them: the page, and the cameras with their state.
	creds.Store(true)
	if res, err = chromedp.RunResponse(tctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("the console with credentials: %d, want 200", res.Status)
	}
	eval[chromedp.Void](t, tctx, `window.vigilTestLoad = 1`) // gone if the page reloads
	camera := func(id string) string { return `document.querySelector('.camera[data-camera="` + id + `"]')` }
	wait(t, tctx, 20*time.Second, "gate and lobby streaming, yard offline", camera("gate")+`?.dataset.state === 'streaming' && `+
		camera("lobby")+`?.dataset.state === 'streaming' && `+camera("yard")+`?.dataset.state === 'offline'`)
	wait(t, tctx, 20*time.Second, "gate's picture and figures", camera("gate")+`.querySelector('img.picture').naturalWidth > 0 && `+
		`parseFloat(`+camera("gate")+`.querySelector('[data-figure="fps-in"]').textContent) > 0 && `+
		camera("gate")+`.querySelector('[data-figure="decode"]').textContent.startsWith('auto')`)
	if act := eval[string](t, tctx, camera("lobby")+`.dataset.activity`); act != "idle" && act != "awake" {
		t.Errorf("lobby (decode_mode auto) shows activity %q, want idle or awake", act)
	}

	// A motion incident of gate raised while the page is open appears
	// from the live stream, with its snapshot.
	wait(t, tctx, 10*time.Second, "the history loaded and the live stream open",
		`document.body.dataset.history === 'loaded' && document.getElementById('live').dataset.live === 'open'`)
	before := eval[[]string](t, tctx, `[...document.querySelectorAll('.incident')].map((n) => n.dataset.incident)`)
	known, _ := json.Marshal(before)
	fresh := `[...document.querySelectorAll('.incident[data-camera="gate"][data-kind="motion"][data-via="live"]')].filter((n) => !` + string(known) + `.includes(n.dataset.incident))`
	wait(t, tctx, 30*time.Second, "a new motion incident of gate from the live stream", fresh+`.length > 0`)
	if !eval[bool](t, tctx, `window.vigilTestLoad === 1`) {
		t.Error("the page reloaded to show the incident")
	}
	wait(t, tctx, 10*time.Second, "the incident's snapshot", fresh+`.some((n) => { const i = n.querySelector('img.evidence'); return i && !i.hidden && i.complete && i.naturalWidth > 0 })`)

	// Filters: by camera, then by kind.
	wait(t, tctx, 10*time.Second, "yard's camera_offline incident", `document.querySelector('.incident[data-camera="yard"][data-kind="camera_offline"]:not([hidden])') !== null`)
	choose := func(id, value string) {
		eval[chromedp.Void](t, tctx, `(() => { const s = document.getElementById('`+id+`'); s.value = '`+value+`'; s.dispatchEvent(new Event('change')); })()`)
	}
	visible := func() []string {
		return eval[[]string](t, tctx, `[...document.querySelectorAll('.incident:not([hidden])')].map((n) => n.dataset.camera + '/' + n.dataset.kind)`)
	}
	choose("filter-camera", "gate")
	if v := visible(); len(v) == 0 || slices.ContainsFunc(v, func(s string) bool { return !strings.HasPrefix(s, "gate/") }) {
		t.Errorf("camera filter gate: visible incidents %v, want gate's only", v)
	}
	choose("filter-camera", "")
	choose("filter-kind", "camera_offline")
	if v := visible(); len(v) == 0 || slices.ContainsFunc(v, func(s string) bool { return !strings.HasSuffix(s, "/camera_offline") }) {
		t.Errorf("kind filter camera_offline: visible incidents %v, want camera_offline only", v)
	}
	choose("filter-kind", "")
	if v := visible(); !slices.Contains(v, "gate/motion") || !slices.Contains(v, "yard/camera_offline") {
		t.Errorf("no filter: visible incidents %v, want gate's motion and yard's camera_offline", v)
	}
	// The time range: asked of the history, and applied in the page.
	choose("filter-range", "3600")
	wait(t, tctx, 10*time.Second, "GET /api/incidents with since", `performance.getEntriesByType('resource').some((e) => e.name.includes('/api/incidents?') && e.name.includes('since='))`)
	eval[chromedp.Void](t, tctx, `(() => {
		const d = new Date(Date.now() + 3600e3), pad = (n) => String(n).padStart(2, '0');
		document.getElementById('filter-from').value = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
	})()`)
	choose("filter-range", "custom")
	if v := visible(); len(v) != 0 || !eval[bool](t, tctx, `!document.getElementById('no-incidents').hidden`) {
		t.Errorf("started after an hour from now: visible incidents %v, want none and the empty notice", v)
	}
	choose("filter-range", "86400")

	if path := os.Getenv("VIGIL_CONSOLE_SCREENSHOT"); path != "" {
		// An ended incident beside the open ones, and every picture loaded.
		wait(t, tctx, 20*time.Second, "an ended motion incident of gate", `document.querySelector('.incident[data-camera="gate"][data-state="ended"]') !== null`)
		wait(t, tctx, 10*time.Second, "the pictures", `[...document.querySelectorAll('.camera[data-state="streaming"] img.picture, .incident img.evidence')].every((i) => i.hidden || (i.complete && i.naturalWidth > 0))`)
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Text from the API stays text, and the page keeps 200 incidents.
	eval[chromedp.Void](t, tctx, `(() => {
		const now = Date.now();
		for (let i = 0; i < 250; i++) {
			const at = new Date(now - i * 1000).toISOString();
			merge({id: 'e' + i, type: 'vigil.incident.start', time: at, data: {incident_id: 'synthetic-' + i,
				camera: i === 0 ? '<img src=x id=injected>' : 'gate', kind: '<b id=bold>motion</b>', started_at: at, score: 0.5}}, 'test');
		}
	})()`)
	wait(t, tctx, 5*time.Second, "the list bounded to 200", `document.querySelectorAll('.incident').length === 200`)
	if !eval[bool](t, tctx, `document.getElementById('injected') === null && document.getElementById('bold') === null && `+
		`[...document.querySelectorAll('.camera-name')].some((n) => n.textContent === '<img src=x id=injected>')`) {
		t.Error("a camera id or kind with markup became markup in the page")
	}

	// The engine restarts: the page, still open, reconnects by itself and
	// shows the new run's incidents live.
	seen := eval[[]string](t, tctx, `[...document.querySelectorAll('.incident')].map((n) => n.dataset.incident)`)
	stop()
	wait(t, tctx, 10*time.Second, "the page to notice the engine stopped", `document.getElementById('live').dataset.live !== 'open'`)
	stop = run()
	wait(t, tctx, 20*time.Second, "the live stream open again", `document.getElementById('live').dataset.live === 'open'`)
	known, _ = json.Marshal(seen)
	fresh = `[...document.querySelectorAll('.incident[data-camera="gate"][data-kind="motion"][data-via="live"]')].filter((n) => !` + string(known) + `.includes(n.dataset.incident))`
	wait(t, tctx, 30*time.Second, "a motion incident of the new run from the live stream", fresh+`.length > 0`)
	if !eval[bool](t, tctx, `window.vigilTestLoad === 1`) {
		t.Error("the page reloaded after the restart")
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page reported:\n%s", strings.Join(p, "\n"))
	}
}
