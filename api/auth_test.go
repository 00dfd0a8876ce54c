package api

import (
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestClientIPGroupsIPv6: the failure limiter counts an IPv6 client by
// its /64 (one host may hold all of it), an IPv4 one by its address.
func TestClientIPGroupsIPv6(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"[2001:db8:1:2:aaaa::1]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff:ffff:ffff:ffff]:1", "2001:db8:1:2::/64"},
		{"192.0.2.7:4000", "192.0.2.7"},
	} {
		if got := clientIP(&http.Request{RemoteAddr: c.remote}); got != c.want {
			t.Errorf("clientIP(%s) = %s, want %s", c.remote, got, c.want)
		}
	}
}

// TestFakeHashFollowsCost: an unknown user is compared against a hash of
// the configured users' cost, so that it is refused as slowly as a known
// one.
func TestFakeHashFollowsCost(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost+1)
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeHash(map[string]string{"u": string(h)})
	if c, err := bcrypt.Cost([]byte(fake)); err != nil || c != bcrypt.MinCost+1 {
		t.Errorf("fake hash cost %d (%v), want %d", c, err, bcrypt.MinCost+1)
	}
}
