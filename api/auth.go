package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
)

// authenticator checks the basic auth users of web_config_file in front of
// every endpoint, in place of exporter-toolkit's check (which runs every
// bcrypt comparison of all clients behind one lock, so that a flood of
// wrong passwords makes real scrapes wait past Prometheus' timeout):
//   - a user and password that passed bcrypt are remembered for a TTL as an
//     HMAC-SHA256 of user, password hash and password under a key drawn at
//     start (never the password itself); a failure is never remembered, and
//     a changed password hash no longer matches;
//   - the failed checks of each client address are limited by a token
//     bucket: past it, a request whose credentials are not remembered gets
//     429 without any bcrypt work;
//   - bcrypt comparisons run on half the cores at most (at least one):
//     a flood from many addresses cannot take the decoders' CPU.
//
// Safe for concurrent use.
type authenticator struct {
	users func() map[string]string // user → bcrypt hash; empty: no authentication
	next  http.Handler
	log   *slog.Logger
	ttl   time.Duration
	key   []byte
	sem   chan struct{} // bcrypt comparisons running
	lim   *failLimiter
	now   func() time.Time

	failures, limited, checks prometheus.Counter

	mu sync.Mutex
	ok map[[sha256.Size]byte]time.Time // remembered successes → expiry
}

// maxRemembered bounds the remembered successes (users × passwords in use).
const maxRemembered = 1024

// fakeHash returns what is compared for an unknown user, so that the
// answer takes as long as for a known one (no user enumeration by timing):
// bcrypt of a random password, never matched, at the cost of the
// configured users' hashes (a cost 12 hash takes 4 times a cost 10 one).
func fakeHash(users map[string]string) string {
	cost := bcrypt.DefaultCost
	for _, h := range users {
		if c, err := bcrypt.Cost([]byte(h)); err == nil {
			cost = c
			break
		}
	}
	fakeMu.Lock()
	defer fakeMu.Unlock()
	h, ok := fakeHashes[cost]
	if !ok {
		pw := make([]byte, 16)
		rand.Read(pw) //nolint:errcheck // never fails (crypto/rand)
		b, _ := bcrypt.GenerateFromPassword(pw, cost)
		h = string(b)
		fakeHashes[cost] = h
	}
	return h
}

var (
	fakeMu     sync.Mutex
	fakeHashes = map[int]string{} // by cost: a handful at most
)

func (a *authenticator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	users := a.users()
	if len(users) == 0 {
		a.next.ServeHTTP(w, r)
		return
	}
	user, pass, hasAuth := r.BasicAuth()
	if !hasAuth {
		unauthorized(w)
		return
	}
	hash, known := users[user]
	if !known {
		hash = fakeHash(users)
	}
	sum := a.sum(user, hash, pass)
	if known && a.remembered(sum) {
		a.next.ServeHTTP(w, r)
		return
	}
	ip := clientIP(r)
	if ok, first := a.lim.take(ip); !ok {
		a.limited.Inc()
		if first {
			a.log.Warn("failed http authentications limited; answering 429", "remote", ip,
				"key", "http.login_failures_per_minute")
		}
		w.Header().Set("Retry-After", strconv.Itoa(a.lim.retryAfter()))
		http.Error(w, "too many failed authentications", http.StatusTooManyRequests)
		return
	}
	select {
	case a.sem <- struct{}{}:
	case <-r.Context().Done():
		a.lim.give(ip)
		return
	}
	a.checks.Inc()
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass))
	<-a.sem
	if err != nil || !known {
		a.failures.Inc()
		unauthorized(w)
		return
	}
	a.lim.give(ip)
	a.remember(sum)
	a.next.ServeHTTP(w, r)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", "Basic")
	http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
}

// sum is the keyed hash remembered for a success: it binds the user, the
// hash it had (a changed password forgets it) and the password.
func (a *authenticator) sum(user, hash, pass string) [sha256.Size]byte {
	m := hmac.New(sha256.New, a.key)
	for _, s := range []string{user, hash, pass} {
		m.Write([]byte(strconv.Itoa(len(s)))) // length-prefixed: no ambiguity between fields
		m.Write([]byte{':'})
		m.Write([]byte(s))
	}
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

func (a *authenticator) remembered(sum [sha256.Size]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.ok[sum]
	if ok && a.now().After(exp) {
		delete(a.ok, sum)
		return false
	}
	return ok
}

func (a *authenticator) remember(sum [sha256.Size]byte) {
	if a.ttl <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.ok) >= maxRemembered {
		for k, exp := range a.ok {
			if now.After(exp) {
				delete(a.ok, k)
			}
		}
		for k := range a.ok { // still full: forget any (it is checked again)
			if len(a.ok) < maxRemembered {
				break
			}
			delete(a.ok, k)
		}
	}
	a.ok[sum] = now.Add(a.ttl)
}

// clientIP is the request's remote address without its port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	// An IPv6 client is its /64: one host commonly holds a whole /64, and
	// would otherwise have 2^64 buckets.
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return host
}

// newAuthenticator returns the authentication in front of next.
func newAuthenticator(users func() map[string]string, next http.Handler, ttl time.Duration, burst, perMinute int,
	log *slog.Logger, failures, limited, checks prometheus.Counter) *authenticator {
	key := make([]byte, 32)
	rand.Read(key) //nolint:errcheck // never fails (crypto/rand)
	now := time.Now
	return &authenticator{users: users, next: next, log: log, ttl: ttl, key: key,
		sem: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)), now: now,
		lim:      &failLimiter{burst: float64(burst), rate: float64(perMinute) / 60, now: now, buckets: map[string]*bucket{}},
		failures: failures, limited: limited, checks: checks, ok: map[[sha256.Size]byte]time.Time{}}
}

// failLimiter is a token bucket per client address for password checks:
// a check takes a token, a success gives it back; an empty bucket refuses.
// The map is bounded (maxClients): full buckets are dropped first, and past
// the bound new addresses share one bucket.
type failLimiter struct {
	burst, rate float64 // tokens, tokens per second
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens  float64
	at      time.Time
	refused bool // a request was refused since the bucket was last full
}

// maxClients bounds the addresses tracked by failLimiter.
const maxClients = 10_000

// sharedBucket is the bucket of the addresses past maxClients.
const sharedBucket = "(others)"

// take takes a token of ip's bucket; first is true on the first refusal
// since the bucket was last full (to log once).
func (l *failLimiter) take(ip string) (ok, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ip)
	if b.tokens < 1 {
		first = !b.refused
		b.refused = true
		return false, first
	}
	b.tokens--
	return true, false
}

func (l *failLimiter) give(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ip)
	b.tokens = min(b.tokens+1, l.burst)
}

// retryAfter is the whole seconds until a token comes back.
func (l *failLimiter) retryAfter() int { return int(1/l.rate) + 1 }

// bucket returns ip's bucket, refilled to now. l.mu is held.
func (l *failLimiter) bucket(ip string) *bucket {
	now := l.now()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= maxClients {
			for k, o := range l.buckets {
				if o.tokens+now.Sub(o.at).Seconds()*l.rate >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		if len(l.buckets) >= maxClients {
			ip = sharedBucket
			b, ok = l.buckets[ip]
		}
		if !ok {
			b = &bucket{tokens: l.burst, at: now}
			l.buckets[ip] = b
		}
	}
	b.tokens = min(b.tokens+now.Sub(b.at).Seconds()*l.rate, l.burst)
	b.at = now
	if b.tokens >= l.burst {
		b.refused = false
	}
	return b
}
