// Package memtrim gives back to the system the memory the C allocator
// keeps after a burst. libavcodec allocates a decoder's picture pool and
// context when a camera starts or wakes, and the decoder pool frees them
// once the camera is idle again; glibc keeps the freed pages in its heaps
// (its arenas) instead of unmapping them, so an engine's resident memory
// stays at its start-up peak: 0.86 MiB per idle camera more, measured on
// 100 idle 640x360 cameras (BENCHMARKS.md, "Memory per idle camera").
// malloc_trim(0) returns those pages; Run calls it at an interval.
package memtrim

/*
#include <malloc.h>
#include <stdlib.h>

// vg_churn (for the tests) allocates n blocks of size bytes (below
// glibc's mmap threshold, so from the heap), touches them, frees all but
// the last and returns it: the heap's top stays in use, so the pages freed
// below it are kept by the allocator until a trim.
static void *vg_churn(int n, size_t size) {
	void **p = malloc(sizeof(void *) * n);
	if (p == NULL) return NULL;
	for (int i = 0; i < n; i++) {
		p[i] = malloc(size);
		if (p[i] == NULL) return NULL;
		for (size_t j = 0; j < size; j += 4096) ((char *)p[i])[j] = 1;
	}
	void *last = p[n - 1];
	for (int i = 0; i < n - 1; i++) free(p[i]);
	free(p);
	return last;
}
*/
import "C"

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Interval is how often Run trims by default. A trim costs 1 to 7 ms at
// 200 idle cameras, up to 50 ms when it gives back 200 MB after a burst:
// every 5 s that is well under 0.1% of a core, and the resident set
// follows a start-up or wake burst within seconds rather than staying at
// its peak for most of a minute (BENCHMARKS.md, "Memory per idle camera").
const Interval = 5 * time.Second

// Trim returns the free memory of the C allocator's heaps to the system,
// and reports whether any was.
func Trim() bool { return C.malloc_trim(0) == 1 }

// Run trims every interval until ctx ends, logging at debug level what
// each trim gave back. An interval of 0 or less does nothing.
func Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before, start := residentBytes(), time.Now()
		Trim()
		log.Debug("allocator trimmed", "took", time.Since(start), "resident_before", before, "resident_after", residentBytes())
	}
}

// IntervalFromEnv is Interval, or VIGIL_MALLOC_TRIM_INTERVAL when set (a
// Go duration; 0 turns trimming off: for measuring what it gives).
func IntervalFromEnv() time.Duration {
	v, ok := os.LookupEnv("VIGIL_MALLOC_TRIM_INTERVAL")
	if !ok {
		return Interval
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return Interval
	}
	return d
}

// residentBytes is the process's resident set, from /proc/self/statm (0
// if unreadable).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// churn runs vg_churn and returns a function freeing its last block.
func churn(n, size int) func() {
	p := C.vg_churn(C.int(n), C.size_t(size))
	return func() { C.free(unsafe.Pointer(p)) }
}
