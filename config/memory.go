package config

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// defaultStreamMemoryMB is stream_memory_mb's default: half the memory of
// the process's cgroup (v2 memory.max) or, without a limit, of the
// machine; at least 256.
func defaultStreamMemoryMB() int {
	var total uint64
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		total = uint64(si.Totalram) * uint64(si.Unit)
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && (total == 0 || n < total) {
			total = n
		}
	}
	return min(max(int(total/2>>20), 256), maxStreamMemoryMB)
}
