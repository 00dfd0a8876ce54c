package console

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// serve answers one request of the console's handler.
func serve(method, path string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

// TestHandler: the page and its files are served with their type, the
// security headers and a validator (a second load with If-None-Match is a
// 304); any other path is a 404, whatever it looks like.
func TestHandler(t *testing.T) {
	for _, tc := range []struct{ path, ctype string }{
		{"/", "text/html; charset=utf-8"},
		{"/console/console.js", "text/javascript; charset=utf-8"},
		{"/console/console.css", "text/css; charset=utf-8"},
	} {
		rec := serve("GET", tc.path, nil)
		h := rec.Header()
		if rec.Code != 200 || h.Get("Content-Type") != tc.ctype || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d %q (%d bytes), want 200 %q", tc.path, rec.Code, h.Get("Content-Type"), rec.Body.Len(), tc.ctype)
		}
		for k, want := range map[string]string{"Content-Security-Policy": contentSecurityPolicy, "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"} {
			if got := h.Get(k); got != want {
				t.Errorf("GET %s: %s %q, want %q", tc.path, k, got, want)
			}
		}
		etag := h.Get("ETag")
		if again := serve("GET", tc.path, http.Header{"If-None-Match": {etag}}); etag == "" || again.Code != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %d, want 304", tc.path, etag, again.Code)
		}
	}
	for _, p := range []string{"/console/", "/console/index.html", "/console/nope.js", "/console/../console/console.js", "/console/static",
		"/index.html", "/console.js"} {
		if rec := serve("GET", p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
}

// TestPageFollowsItsPolicy: the page loads only files the handler serves,
// from its own origin, with no inline script, style or event handler
// (which the Content-Security-Policy would block); the script never hands
// text to the HTML parser (innerHTML and the like): every text from the
// API goes in as text.
func TestPageFollowsItsPolicy(t *testing.T) {
	page, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
	if len(refs) < 2 {
		t.Fatalf("the page references %d files, want its script and style", len(refs))
	}
	for _, m := range refs {
		if rec := serve("GET", m[1], nil); rec.Code != 200 {
			t.Errorf("the page loads %s: %d", m[1], rec.Code)
		}
	}
	for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), regexp.MustCompile(`<style`),
		regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`style="`), regexp.MustCompile(`(?:src|href)="(?:https?:)?//`)} {
		if loc := bad.FindIndex(page); loc != nil {
			t.Errorf("index.html has %q, which its policy forbids", page[loc[0]:loc[1]])
		}
	}
	script, err := os.ReadFile("static/console.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment"} {
		if strings.Contains(string(script), sink) {
			t.Errorf("console.js uses %s: text from the API must go in with textContent or attributes", sink)
		}
	}
}
