package service

import (
	"net"
	"testing"

	"github.com/vigil-video/vigil/sim"
)

func startSim(t *testing.T, cams ...sim.Camera) *sim.Server {
	t.Helper()
	srv, err := sim.Start(sim.Config{Address: "127.0.0.1:0", Cameras: cams})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func clip(t *testing.T, name string) *sim.Clip {
	t.Helper()
	c, err := sim.EmbeddedClip(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
