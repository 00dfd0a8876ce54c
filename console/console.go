// Package console serves the operator console: one page (GET /) with its
// script and style (GET /console/{file}), compiled into the binary with
// embed, so that the engine needs nothing at run time (no download, no
// CDN, no build step). The page reads the engine's own API from the
// browser: GET /api/cameras (states and figures), each camera's
// GET /api/cameras/{id}/snapshot.jpg, GET /api/incidents (the history)
// and /api/events (the live stream, Server-Sent Events); it holds no
// secret and shows only what the API already serves. It is served behind
// the API's authentication (package api).
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file, with the validator it is served with.
type asset struct {
	name string // the file name, whose extension gives its Content-Type
	data []byte
	etag string
}

// assets are the embedded files by request path: "/" (index.html) and
// "/console/<file>" for the others.
var assets = func() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		panic(err) // the directory is compiled in
	}
	for _, e := range entries {
		data, err := static.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(data)
		a := asset{name: e.Name(), data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		if e.Name() == "index.html" {
			out["/"] = a
		} else {
			out["/console/"+e.Name()] = a
		}
	}
	return out
}()

// contentSecurityPolicy lets the page load its own script, style,
// pictures (the API's, and data: for evidence embedded in events) and
// talk to its own origin only: no inline script, no other site, no
// framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console: GET / the page, GET /console/{file} its
// assets, 404 for anything else. The files are revalidated on each load
// (ETag), so that an upgraded engine serves its new page at once.
// Register it for both routes.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.URL.Path] // exact: no file system path is ever opened
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
	})
}
