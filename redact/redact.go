// Package redact removes credentials from URLs before they are shown in
// logs, errors, metrics, the API or events. It is vigil's one redactor:
// camera, webhook, MQTT and NATS URLs all go through URL.
package redact

import (
	"math"
	"net/url"
	"strings"
)

// Mask replaces every secret value.
const Mask = "REDACTED"

// URL returns raw without its credentials: the user info (user and
// password) is removed, the values of query and fragment parameters whose
// names look secret (token, access_token, api_key, key, sig, signature,
// secret, password, auth, credential, X-Amz-Signature, ...; any case) are
// replaced by Mask, and so are the path segments that carry a token (see
// Path: Slack, Discord, Teams and Mattermost webhooks, long random
// segments). The host and the first path element stay readable. Other
// parameters keep their order and text. A URL that does not parse is
// redacted by the same rules applied to its text, never echoed as it is.
// Safe for concurrent use.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		// "user:pass@host" parses as scheme "user" with opaque "pass@host".
		return text(raw)
	}
	u.User = nil
	if p := Path(u.EscapedPath()); p != u.EscapedPath() {
		u.RawPath = p
		u.Path, _ = url.PathUnescape(p) // p is u's escaped path with segments masked
	}
	u.RawQuery = pairs(u.RawQuery)
	frag := u.EscapedFragment()
	u.Fragment, u.RawFragment = "", ""
	s := u.String()
	if frag != "" {
		s += "#" + pairs(frag)
	}
	return s
}

// Text returns msg (an error message from a client library, say) with
// every URL of urls, as written, replaced by its redacted form (URL), and
// every non-empty secret replaced by Mask. It is how a message quoting a
// configured URL or password is made safe to log.
func Text(msg string, urls []string, secrets ...string) string {
	for _, u := range urls {
		if u != "" {
			msg = strings.ReplaceAll(msg, u, URL(u))
		}
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, Mask)
		}
	}
	return msg
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
	if i := strings.Index(head, "://"); i >= 0 {
		if j := strings.IndexByte(head[i+3:], '/'); j >= 0 {
			head = head[:i+3+j] + Path(head[i+3+j:])
		}
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

// Path returns an escaped URL path with the segments that carry a secret
// replaced by Mask. Webhook services put their token in the path, not in a
// parameter: every segment after a "services" (Slack), "webhooks" (Discord,
// "/api/webhooks/ID/TOKEN"), "webhook" or "webhookb2" (Teams), "hooks" or
// "hook" (Mattermost, Gitea) element is masked; so is any segment that
// looks like a token wherever it is (20 characters or more of letters and
// digits mixed with a high entropy, or 32 or more token characters), such
// as a generic "/incoming/3f9a...". A segment of name=value parameters
// (separated by & or ;) has its secret values masked as a query's are. The
// first element stays readable unless it is itself such a token.
func Path(p string) string {
	if p == "" || p == "/" {
		return p
	}
	segs := strings.Split(p, "/")
	masked, after := false, false
	for i, seg := range segs {
		if seg == "" {
			continue
		}
		if after || tokenLike(seg) {
			segs[i], masked = Mask, true
		} else if strings.ContainsRune(seg, '=') {
			// Parameters in the path (XMEye-style NVRs:
			// "/user=admin&password=x&channel=1", "/cam;password=x").
			if m := pairs(seg); m != seg {
				segs[i], masked = m, true
			}
		}
		if !after && webhookContext[strings.ToLower(seg)] {
			after = true
		}
	}
	if !masked {
		return p
	}
	return strings.Join(segs, "/")
}

// webhookContext are path elements after which every segment is a
// webhook's id or token.
var webhookContext = map[string]bool{"services": true, "webhooks": true, "webhook": true, "webhookb2": true,
	"hooks": true, "hook": true}

// tokenLike reports whether an escaped path segment looks like a random
// token: at least 20 characters of letters, digits and -_.~+=:% with both
// letters and digits and at least 3.2 bits of entropy per character; or 32
// characters and more of that alphabet, whatever their mix (a hex digest, a
// UUID, base64url).
func tokenLike(seg string) bool {
	if len(seg) < 20 {
		return false
	}
	var letters, digits int
	var counts [256]int
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case c >= '0' && c <= '9':
			digits++
		case strings.IndexByte("-_.~+=:%", c) >= 0:
		default:
			return false
		}
		counts[c]++
	}
	if len(seg) >= 32 {
		return true
	}
	if letters == 0 || digits == 0 {
		return false
	}
	var h float64
	n := float64(len(seg))
	for _, k := range counts {
		if k > 0 {
			f := float64(k) / n
			h -= f * math.Log2(f)
		}
	}
	return h >= 3.2
}
