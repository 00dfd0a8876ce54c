package memtrim

import "testing"

// TestTrimGivesBackFreedHeap: 64 MiB allocated on the C heap and freed
// (all but its top block) stays resident until Trim, which gives most of
// it back.
func TestTrimGivesBackFreedHeap(t *testing.T) {
	Trim()
	base := residentBytes()
	free := churn(2048, 32<<10) // 2,048 blocks of 32 KiB: 64 MiB
	defer free()
	kept := residentBytes()
	if kept-base < 48<<20 {
		t.Skipf("the allocator gave the freed heap back by itself (resident %d → %d MiB): nothing to trim here", base>>20, kept>>20)
	}
	if !Trim() {
		t.Error("Trim reported nothing given back")
	}
	after := residentBytes()
	t.Logf("resident: %d MiB before, %d MiB with the freed heap kept, %d MiB after Trim", base>>20, kept>>20, after>>20)
	if kept-after < 48<<20 {
		t.Errorf("Trim gave back %d MiB of the 64 MiB freed, want 48 or more", (kept-after)>>20)
	}
}

func TestIntervalFromEnv(t *testing.T) {
	if got := IntervalFromEnv(); got != Interval {
		t.Errorf("unset: %s, want %s", got, Interval)
	}
	for _, c := range []struct{ v, want string }{{"0", "0s"}, {"10s", "10s"}, {"junk", "5s"}} {
		t.Setenv("VIGIL_MALLOC_TRIM_INTERVAL", c.v)
		if got := IntervalFromEnv().String(); got != c.want {
			t.Errorf("VIGIL_MALLOC_TRIM_INTERVAL=%q: %s, want %s", c.v, got, c.want)
		}
	}
}
