package memlimit

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimitFollowsTheLiveHeap(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ live, cap, want uint64 }{
		{10 * mib, 0, 74 * mib},           // small: GOGC=400 decides (10 MiB × 5 < 74 MiB)
		{16 * mib, 0, 80 * mib},           // where the two meet
		{25 * mib, 0, 89 * mib},           // a start reading back a busy hour
		{500 * mib, 0, 1000 * mib},        // large: twice the live heap, not five times
		{500 * mib, 800 * mib, 720 * mib}, // under a cgroup limit: 90 % of it
	} {
		if got := Limit(c.live, c.cap); got != c.want {
			t.Errorf("Limit(%d MiB, %d MiB) = %d MiB, want %d MiB", c.live/mib, c.cap/mib, got/mib, c.want/mib)
		}
	}
}

func TestApplyLeavesWhatTheEnvironmentSets(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	debug.SetMemoryLimit(123 << 20)
	p := Apply(func(k string) string { return map[string]string{"GOGC": "150", "GOMEMLIMIT": "123MiB"}[k] })
	if p.LimitFollows || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Fatalf("GOMEMLIMIT set, yet the policy moved the limit: %+v, limit %d", p, debug.SetMemoryLimit(-1))
	}
	if p.GCPercent != 100 || debug.SetGCPercent(-1) != 100 {
		// the runtime read GOGC at start (100 here: the test binary's); Apply leaves it
		t.Fatalf("GOGC set, yet the policy changed it: %+v", p)
	}
}

func TestApplyFollowsAfterEveryCollection(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	p := Apply(func(string) string { return "" })
	defer p.Stop()
	if debug.SetGCPercent(-1) != GCPercent {
		t.Fatalf("GOGC %d, want %d", debug.SetGCPercent(-1), GCPercent)
	}
	debug.SetGCPercent(GCPercent)
	keep := make([][]byte, 0, 300)
	for range 300 { // 300 MiB live: past MinHeadroom, so the limit is twice it
		keep = append(keep, make([]byte, 1<<20))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		live := p.Live()
		got := uint64(debug.SetMemoryLimit(-1))
		if live >= 300<<20 && got == Limit(live, p.HardCap) && got >= min(2*live, p.HardCap/10*9) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("limit %d MiB after a collection with %d MiB live, want %d MiB", got>>20, live>>20, Limit(live, p.HardCap)>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(keep)
}
