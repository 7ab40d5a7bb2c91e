package memlimit

import (
	"runtime"
	"runtime/debug"
	"testing"
	"testing/fstest"
	"time"
)

func TestLimitFollowsTheLiveHeap(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ live, cap, want uint64 }{
		{4 * mib, 0, 36 * mib},            // small: GOGC=400 decides (4 MiB × 5 < 36 MiB)
		{8 * mib, 0, 40 * mib},            // where the two meet
		{20 * mib, 0, 52 * mib},           // a start reading back a busy hour (1,000 workspaces)
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

// TestLimitHoldsItsHighest: the limit rises with the live heap at once and
// comes down only after the live heap has stayed lower for Hold, so a live heap
// swinging ±30 % between collections (100k workspaces) leaves it level.
func TestLimitHoldsItsHighest(t *testing.T) {
	const mib = 1 << 20
	var h highWater
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		after time.Duration
		ask   uint64
		want  uint64
	}{
		{0, 700 * mib, 700 * mib},
		{10 * time.Second, 1000 * mib, 1000 * mib}, // rises at once
		{20 * time.Second, 600 * mib, 1000 * mib},  // swings down: held
		{30 * time.Second, 900 * mib, 1000 * mib},
		{Hold, 650 * mib, 1000 * mib},                     // 1000 asked Hold−10 s ago: still held
		{Hold + 10*time.Second, 640 * mib, 900 * mib},     // 1000 is older than Hold: the next highest
		{Hold + 29*time.Second, 630 * mib, 900 * mib},     // 900 was asked at 30 s: held for Hold
		{Hold + 31*time.Second, 620 * mib, 650 * mib},     // then what the last Hold asked for
		{2*Hold + 40*time.Second, 300 * mib, 300 * mib},   // a smaller heap for Hold: down to it
		{2*Hold + 50*time.Second, 1200 * mib, 1200 * mib}, // and up again at once
	} {
		if got := h.add(t0.Add(c.after), c.ask); got != c.want {
			t.Errorf("step %d (+%v, asking %d MiB): limit %d MiB, want %d MiB", i, c.after, c.ask/mib, got/mib, c.want/mib)
		}
	}
	if len(h.marks) > 2 {
		t.Errorf("%d marks kept, want the decreasing ones only", len(h.marks))
	}
}

// TestABurstOneCollectionFindsRaisesNothing: the live heap of 100k workspaces
// (~300 MiB) with the audit's full read (+100 MiB for a second) caught live by
// one collection now and then: the limit stays where the steady heap puts it
// instead of stepping up by twice the burst for Hold; a heap that grew (two
// collections in a row) raises it at the next collection; a burst always
// leaves the collector at least MinHeadroom above the live heap.
func TestABurstOneCollectionFindsRaisesNothing(t *testing.T) {
	const mib = 1 << 20
	var s state
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		after     time.Duration
		live, cap uint64
		want      uint64
	}{
		{0, 300 * mib, 0, 600 * mib},
		{20 * time.Second, 310 * mib, 0, 600 * mib},   // the floor: 300
		{40 * time.Second, 410 * mib, 0, 620 * mib},   // a burst caught: 310 (was 820 for Hold)
		{60 * time.Second, 305 * mib, 0, 620 * mib},   // gone again: held at 620
		{80 * time.Second, 600 * mib, 0, 632 * mib},   // a burst larger than the headroom: live + MinHeadroom
		{100 * time.Second, 300 * mib, 0, 620 * mib},  // gone: back to the held floor
		{120 * time.Second, 500 * mib, 0, 620 * mib},  // grown…
		{140 * time.Second, 510 * mib, 0, 1000 * mib}, // …and still: the limit follows
	} {
		if got := s.next(t0.Add(c.after), c.live, c.cap); got != c.want {
			t.Errorf("step %d (+%v, %d MiB live): limit %d MiB, want %d MiB", i, c.after, c.live/mib, got/mib, c.want/mib)
		}
	}
	var capped state // under a cgroup limit: 90 % of it, the headroom's least included
	if got := capped.next(t0, 900*mib, 1000*mib); got != 900*mib {
		t.Errorf("900 MiB live under a 1000 MiB cgroup limit: limit %d MiB, want 900 MiB", got/mib)
	}
}

// TestNoLimitBeforeTheSecondCollection: the first collection of a process
// finds what a start had built by then (a few MB), and a limit of that plus
// MinHeadroom collected a 100k-workspace start every MinHeadroom while it
// built its ledger; GCPercent alone decides until the second collection,
// which sets the limit as every later one does (from the floor of the two).
func TestNoLimitBeforeTheSecondCollection(t *testing.T) {
	const mib = 1 << 20
	var s state
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	if l, set := s.after(t0, 12*mib, 0); set {
		t.Fatalf("the first collection (12 MiB live) set a limit of %d MiB", l/mib)
	}
	if l, set := s.after(t0.Add(time.Second), 50*mib, 0); !set || l != 82*mib {
		t.Fatalf("the second collection (50 MiB live, 12 before): limit %d MiB set %v, want 82 MiB (live + MinHeadroom) set", l/mib, set)
	}
	if l, set := s.after(t0.Add(2*time.Second), 60*mib, 0); !set || l != 100*mib {
		t.Fatalf("the third collection (60 MiB live, 50 before): limit %d MiB set %v, want 100 MiB (twice the floor's 50) set", l/mib, set)
	}
}

// TestCgroupLimitIsTheProcessGroups: the limit is read from the process's own
// cgroup and every one above it (the tightest binds), v2 and v1, not from the
// mount's root alone, which a systemd unit's MemoryMax or a v1 host's group
// below the root never sets.
func TestCgroupLimitIsTheProcessGroups(t *testing.T) {
	const noLimitV1 = "9223372036854771712\n"
	root := fstest.MapFS{
		"sys/fs/cgroup/memory.max":                                    {Data: []byte("max\n")},
		"sys/fs/cgroup/system.slice/memory.max":                       {Data: []byte("max\n")},
		"sys/fs/cgroup/system.slice/mavtop.service/memory.max":        {Data: []byte("536870912\n")},
		"sys/fs/cgroup/tight.slice/memory.max":                        {Data: []byte("104857600\n")},
		"sys/fs/cgroup/tight.slice/loose/memory.max":                  {Data: []byte("209715200\n")},
		"sys/fs/cgroup/memory/memory.limit_in_bytes":                  {Data: []byte(noLimitV1)},
		"sys/fs/cgroup/memory/process_api/memory.limit_in_bytes":      {Data: []byte(noLimitV1)},
		"sys/fs/cgroup/memory/process_api/job1/memory.limit_in_bytes": {Data: []byte("314572800\n")},
	}
	for _, c := range []struct {
		self string
		want uint64
	}{
		{"0::/system.slice/mavtop.service\n", 512 << 20},           // v2, the unit's MemoryMax
		{"0::/tight.slice/loose\n", 100 << 20},                     // v2, a parent's tighter limit
		{"0::/\n", 0},                                              // v2, "max"
		{"4:memory:/process_api/job1\n1:cpu:/\n0::/\n", 300 << 20}, // v1 below the root
		{"5:cpuacct,memory:/process_api\n0::/\n", 0},               // v1, no limit anywhere
		{"4:memory:/docker/abc\n", 0},                              // a path not mounted here: the root's, none
		{"0::/gone/away\n", 0},                                     // no such group
	} {
		if got := cgroupLimitIn(root, c.self); got != c.want {
			t.Errorf("%q: %d, want %d", c.self, got, c.want)
		}
	}
}
