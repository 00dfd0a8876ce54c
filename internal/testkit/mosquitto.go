package testkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-video/vigil/internal/await"
)

// Mosquitto runs Debian's broker on a loopback port, with persistence so
// that a restart keeps the subscriber's session.
type Mosquitto struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
}

// StartMosquitto starts Debian's mosquitto on port of loopback, its
// persistence under dir; the test is skipped when it is not installed.
func StartMosquitto(t testing.TB, port int, dir string) *Mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/mosquitto"); err2 != nil {
			t.Skip("mosquitto is not installed (apt-get install mosquitto)")
		}
		bin = "/usr/sbin/mosquitto"
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nautosave_interval 1\n", port, dir)
	if os.Geteuid() == 0 {
		// Started as root, mosquitto switches to its own user, which cannot
		// write its persistence file in the test's directory: subscribers'
		// sessions would be lost on restart.
		body += "user root\n"
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Mosquitto{t: t, port: port, dir: dir, cmd: exec.Command(bin, "-c", conf)}
	if testing.Verbose() {
		m.cmd.Stderr = os.Stderr
	}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	await.Until(t, 20*time.Second, "mosquitto to listen", func() bool {
		c, err := Dial(port)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return m
}

// Stop stops the broker, which saves its persistence file.
func (m *Mosquitto) Stop() {
	m.cmd.Process.Signal(os.Interrupt) //nolint:errcheck // saves its persistence file
	m.cmd.Wait()                       //nolint:errcheck
}

// Dial connects to port of loopback.
func Dial(port int) (net.Conn, error) {
	return net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
}

// FreePort returns a loopback port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
