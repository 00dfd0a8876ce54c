// Package redact removes credentials from URLs before they are shown in
// logs, errors, metrics, the API or events. It is vigil's one redactor:
// camera, webhook, MQTT and NATS URLs all go through URL.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every secret value.
const Mask = "REDACTED"

// URL returns raw without its credentials: the user info (user and
// password) is removed, and the values of query and fragment parameters
// whose names look secret (token, access_token, api_key, key, sig,
// signature, secret, password, auth, credential, X-Amz-Signature, ...; any
// case) are replaced by Mask. Other parameters keep their order and text.
// A URL that does not parse is redacted by the same rules applied to its
// text, never echoed as it is. Safe for concurrent use.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		// "user:pass@host" parses as scheme "user" with opaque "pass@host".
		return text(raw)
	}
	u.User = nil
	u.RawQuery = pairs(u.RawQuery)
	frag := u.EscapedFragment()
	u.Fragment, u.RawFragment = "", ""
	s := u.String()
	if frag != "" {
		s += "#" + pairs(frag)
	}
	return s
}

// text redacts a URL that url.Parse refuses: everything up to the last @
// before the query is user info; the query and fragment are parameters.
func text(raw string) string {
	head, tail := raw, ""
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		head, tail = raw[:i], raw[i:]
	}
	if at := strings.LastIndex(head, "@"); at >= 0 {
		start := 0
		if i := strings.Index(head[:at], "://"); i >= 0 {
			start = i + 3
		}
		head = head[:start] + head[at+1:]
	}
	if tail == "" {
		return head
	}
	// The separator (? or #) stays; each part is a parameter list.
	var b strings.Builder
	b.WriteString(head)
	for tail != "" {
		b.WriteByte(tail[0])
		tail = tail[1:]
		part := tail
		if i := strings.IndexAny(tail, "?#"); i >= 0 {
			part, tail = tail[:i], tail[i:]
		} else {
			tail = ""
		}
		b.WriteString(pairs(part))
	}
	return b.String()
}

// pairs masks the secret values of an encoded name=value list separated by
// & or ;.
func pairs(q string) string {
	if q == "" {
		return q
	}
	var b strings.Builder
	for q != "" {
		item := q
		sep := ""
		if i := strings.IndexAny(q, "&;"); i >= 0 {
			item, sep, q = q[:i], q[i:i+1], q[i+1:]
		} else {
			q = ""
		}
		name, _, hasValue := strings.Cut(item, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if hasValue && SecretName(name) {
			item = item[:strings.IndexByte(item, '=')+1] + Mask
		}
		b.WriteString(item)
		b.WriteString(sep)
	}
	return b.String()
}

// secretWords are secret when they are a whole word of the name
// (x-api-key, sig, pass); secretParts anywhere in it (access_token,
// client_secret, X-Amz-Signature, Authorization).
var (
	secretWords = map[string]bool{"key": true, "sig": true, "pass": true, "pwd": true, "pw": true, "user": true,
		"username": true, "jwt": true, "hmac": true, "otp": true, "pin": true, "sid": true, "session": true}
	secretParts = []string{"token", "secret", "passw", "passphrase", "signature", "credential", "apikey", "auth",
		"privatekey", "accesskey", "sessionid", "cookie"}
)

// SecretName reports whether a parameter (or header) name looks like it
// carries a credential. Case does not matter.
func SecretName(name string) bool {
	lower := strings.ToLower(name)
	joined := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, lower)
	for _, p := range secretParts {
		if strings.Contains(joined, p) {
			return true
		}
	}
	for _, w := range words(name) {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// words splits a name at non-letters and at lower-to-upper case changes
// ("X-Amz-Key", "apiKey", "api_key" give x amz key, api key, api key).
func words(name string) []string {
	var out []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range name {
		isLetter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		isUpper := r >= 'A' && r <= 'Z'
		switch {
		case !isLetter && !(r >= '0' && r <= '9'):
			flush()
			prevLower = false
			continue
		case isUpper && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = r >= 'a' && r <= 'z'
	}
	flush()
	return out
}
