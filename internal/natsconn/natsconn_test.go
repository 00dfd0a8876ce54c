package natsconn

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestConnectErrorHidesSecrets: a connection refused at once (a port that
// is not a number) names the servers, redacted, and quotes neither the
// password nor the user info of any of them.
func TestConnectErrorHidesSecrets(t *testing.T) {
	const pw = "pw-5a4b3c2d"
	c := Config{Name: "t", URL: "nats://alice:" + pw + "@127.0.0.1:4222,nats://bob:" + pw + "@127.0.0.1:port",
		Username: "alice", Password: pw, ReconnectWait: time.Second, Timeout: time.Second}
	nc, err := Connect(c)
	if err == nil {
		nc.Close()
		t.Fatal("connected with a port that is not a number")
	}
	for _, s := range []string{pw, "alice", "bob"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("%q in the error %q", s, err)
		}
	}
	if !strings.Contains(err.Error(), "connect nats://127.0.0.1:4222,nats://127.0.0.1:port: ") {
		t.Errorf("error %q does not name the servers", err)
	}
}

// TestHide: a message quoting one of the servers, or the password alone,
// is shown without them.
func TestHide(t *testing.T) {
	c := Config{URL: "nats://a:s3cret@n1:4222,nats://a:s3cret@n2:4222", Password: "s3cret"}
	got := c.Hide(errors.New(`dial nats://a:s3cret@n2:4222: refused; auth "s3cret"`))
	if want := `dial nats://n2:4222: refused; auth "REDACTED"`; got != want {
		t.Errorf("Hide: got %q, want %q", got, want)
	}
	if c.Hide(nil) != "" {
		t.Error("Hide(nil) is not empty")
	}
}
