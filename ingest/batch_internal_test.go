package ingest

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadBatchMarkAndRelease, on a real loopback TCP connection: under a
// mark of 4 KiB a reader fed 100 bytes every 10 ms wakes a few times, not
// once per write; and bytes under the mark that nothing follows (a stream
// that slowed or stopped) are released by the watchdog, not held forever.
func TestReadBatchMarkAndRelease(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	defer server.Close()

	b := newReadBatch(80*time.Millisecond, setRcvLowat(client.(*net.TCPConn)))
	if b == nil {
		t.Fatal("no batching on a TCP connection")
	}
	b.mark = 4096
	b.setLowat(b.mark)
	if b.lowat.Load() != 4096 {
		t.Fatalf("SO_RCVLOWAT not set: mark %d", b.lowat.Load())
	}

	var got, reads atomic.Int64
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if err != nil {
				return
			}
			b.packet(time.Now())
			got.Add(int64(n))
			reads.Add(1)
		}
	}()
	chunk := make([]byte, 100)
	for range 100 {
		if _, err := server.Write(chunk); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := reads.Load(); n > 30 {
		t.Errorf("100 writes of 100 bytes under a mark of 4096 woke the reader %d times, want a few", n)
	}

	// What is under the mark now waits for the watchdog.
	b.watch()
	defer b.unwatch()
	time.Sleep(300 * time.Millisecond) // the reader takes what it can and waits
	if _, err := server.Write(chunk); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second) // guards against hangs only
	for got.Load() < 10100 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := got.Load(); n != 10100 {
		t.Fatalf("read %d of 10100 bytes: the watchdog did not release the bytes under the mark", n)
	}
}
