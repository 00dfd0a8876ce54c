package ingest

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Batched reads of an RTSP stream over TCP.
//
// A camera sends each RTP packet as it is made, and the kernel wakes the
// stream's reader for about every one: two or three times a picture, 50 to
// 75 times a second for a 640x360 substream at 25 fps, each wake-up a
// goroutine scheduled, a read and a trip through gortsplib. For hundreds of
// idle cameras these wake-ups are most of what the engine spends beside
// keyframe decoding. The socket's receive low-water mark (SO_RCVLOWAT)
// holds the wake-up until that many bytes are waiting: set to what the
// stream sends in ReadBatch, the reader wakes about once per ReadBatch
// and takes all of it in one read.
//
// The mark follows the rate of the pictures between keyframes, measured
// each second on the reader (set anew when it moves by a quarter or more).
// A stream whose rate falls (a view that goes still, a camera that stops)
// could then wait for bytes that come slowly or never: a shared watchdog
// lowers the mark to one byte when a stream has not been read for
// readRelease times its ReadBatch, which makes what is waiting readable at
// once (Linux 4.18 and later wake the reader when the mark is lowered);
// the next access unit read sets the mark again, and the next second's
// rate a lower one if the stream has slowed. A picture is so held back by
// at most about 1.5 ReadBatch plus a watchdog tick; a change in view makes
// the pictures larger, so the wait shortens when it matters.

// DefaultReadBatch is Config.ReadBatch's default: two pictures at 25 fps.
const DefaultReadBatch = 80 * time.Millisecond

// ReadBatchFromEnv is DefaultReadBatch, or VIGIL_READ_BATCH when set (a Go
// duration; 0 turns batching off: for the lowest latency, or for
// measuring what it gives).
func ReadBatchFromEnv() time.Duration {
	v, ok := os.LookupEnv("VIGIL_READ_BATCH")
	if !ok {
		return DefaultReadBatch
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxReadBatch {
		return DefaultReadBatch
	}
	return d
}

// maxReadBatch bounds VIGIL_READ_BATCH.
const maxReadBatch = time.Second

// batchEpoch is the origin of lastRead: times are kept as the monotonic
// time since it, so that a step of the wall clock neither releases every
// stream nor none.
var batchEpoch = time.Now()

const (
	// readRelease: a stream not read for this many ReadBatch has its mark
	// lowered to one byte by the watchdog.
	readRelease = 1.5
	// minLowat: a mark under this many bytes (about one RTP packet) saves
	// nothing; the reader wakes per packet.
	minLowat = 1500
	// maxLowat bounds the mark (a 1080p main at 4 Mbit/s sends 40 KB in
	// 80 ms).
	maxLowat = 256 << 10
	// rateWindow is how often the mark follows the rate.
	rateWindow = time.Second
)

// readBatch sets one TCP stream's low-water mark. packet and accessUnit
// are called on the stream's reader goroutine; release on the watchdog's.
type readBatch struct {
	delay time.Duration
	set   func(n int) error // sets SO_RCVLOWAT

	lastRead atomic.Int64 // the last packet read, since batchEpoch
	lowat    atomic.Int64 // the mark set (1: off, or released)
	mark     int64        // the mark the rate asks for (the reader's)
	mu       sync.Mutex   // serializes set between the reader and the watchdog

	// The reader's own.
	bytes       int64
	windowStart time.Time
}

// newReadBatch returns the batching of a stream whose socket's mark set
// sets; delay is Config.ReadBatch (0: none, nil is returned).
func newReadBatch(delay time.Duration, set func(n int) error) *readBatch {
	if delay <= 0 || set == nil {
		return nil
	}
	b := &readBatch{delay: delay, set: set}
	b.lowat.Store(1)
	return b
}

// packet records a packet read at now.
func (b *readBatch) packet(now time.Time) {
	if b != nil {
		b.lastRead.Store(int64(now.Sub(batchEpoch)))
	}
}

// accessUnit records an access unit of n bytes completed at now, and sets
// the mark anew once per rateWindow. Keyframes are left out of the rate:
// a keyframe comes in one burst, far over any mark, and the mark is what
// the pictures between keyframes fill in ReadBatch (with keyframes in the
// rate, a 2 s GOP's still view would wait 1.3 ReadBatch for its mark).
func (b *readBatch) accessUnit(now time.Time, n int, key bool) {
	if b == nil {
		return
	}
	if b.mark > 1 && b.lowat.Load() == 1 {
		// The watchdog released the mark and the stream sends again: set
		// it back at the end of a picture, so that the next one is not
		// held in its middle.
		b.setLowat(b.mark)
	}
	if !key {
		b.bytes += int64(n)
	}
	if b.windowStart.IsZero() {
		b.windowStart = now
		return
	}
	el := now.Sub(b.windowStart)
	if el < rateWindow {
		return
	}
	want := int64(float64(b.bytes) / el.Seconds() * b.delay.Seconds())
	b.bytes, b.windowStart = 0, now
	switch {
	case want < minLowat:
		want = 1
	case want > maxLowat:
		want = maxLowat
	}
	cur := b.mark
	if want == cur || (cur > 1 && want > 1 && want*4 > cur*3 && want*4 < cur*5) {
		return // within a quarter: keep it
	}
	b.mark = want
	b.setLowat(want)
}

// setLowat sets the mark; a failure (a closed socket) turns it off.
func (b *readBatch) setLowat(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.set(int(n)); err != nil {
		n = 1
	}
	b.lowat.Store(n)
}

// release lowers the mark to one byte when the stream has not been read
// for readRelease times its delay; it reports whether it did.
func (b *readBatch) release(now time.Time) bool {
	if b.lowat.Load() <= 1 {
		return false
	}
	if now.Sub(batchEpoch)-time.Duration(b.lastRead.Load()) < time.Duration(readRelease*float64(b.delay)) {
		return false
	}
	b.setLowat(1)
	return true
}

// batchWatch is the watchdog shared by every batched stream: one goroutine,
// running only while a stream is batched.
var batchWatch = struct {
	mu      sync.Mutex
	streams map[*readBatch]struct{}
	tick    time.Duration // the shortest delay over 4
	running bool
}{streams: map[*readBatch]struct{}{}}

// watch adds b to the watchdog until unwatch.
func (b *readBatch) watch() {
	if b == nil {
		return
	}
	w := &batchWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	w.streams[b] = struct{}{}
	if t := b.delay / 4; w.tick == 0 || t < w.tick {
		w.tick = max(t, time.Millisecond)
	}
	if !w.running {
		w.running = true
		go runBatchWatch()
	}
}

// unwatch takes b off the watchdog.
func (b *readBatch) unwatch() {
	if b == nil {
		return
	}
	w := &batchWatch
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.streams, b)
}

// runBatchWatch releases the stalled streams every tick, and returns once
// no stream is batched.
func runBatchWatch() {
	w := &batchWatch
	var list []*readBatch
	for {
		w.mu.Lock()
		if len(w.streams) == 0 {
			w.running, w.tick = false, 0
			w.mu.Unlock()
			return
		}
		tick := w.tick
		list = list[:0]
		for b := range w.streams {
			list = append(list, b)
		}
		w.mu.Unlock()
		now := time.Now()
		for _, b := range list {
			b.release(now)
		}
		clear(list)
		time.Sleep(tick)
	}
}

// setRcvLowat returns the function that sets SO_RCVLOWAT on c's socket.
func setRcvLowat(c syscall.Conn) func(n int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	return func(n int) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, n)
		}); err != nil {
			return err
		}
		return serr
	}
}
