package memlimit

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestOneShotTurnsTheCollectorOffAndBack: under OneShot the collector is
// off (GOGC -1) with a soft limit of at most OneShotLimit; nested OneShots
// (check run in-process by tests at once) restore GOGC and the limit only
// when the last one undoes, each undo counting once; GOGC or GOMEMLIMIT in
// the environment leave both alone.
func TestOneShotTurnsTheCollectorOffAndBack(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	gc := func() int { v := debug.SetGCPercent(-1); debug.SetGCPercent(v); return v }
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	before := limit()
	none := func(string) string { return "" }

	outer := OneShot(none)
	if gc() != -1 || limit() > OneShotLimit {
		t.Fatalf("under OneShot: GOGC %d, limit %d; want -1 and at most %d", gc(), limit(), OneShotLimit)
	}
	inner := OneShot(none)
	inner()
	inner() // twice: counts once
	if gc() != -1 {
		t.Fatalf("the inner undo turned the collector on (GOGC %d) while the outer runs", gc())
	}
	outer()
	if gc() != GCPercent || limit() != before {
		t.Fatalf("after the last undo: GOGC %d, limit %d; want %d and %d", gc(), limit(), GCPercent, before)
	}
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		undo := OneShot(func(k string) string {
			if k == env {
				return "100"
			}
			return ""
		})
		if gc() != GCPercent || limit() != before {
			t.Fatalf("%s set: GOGC %d, limit %d; want them left alone", env, gc(), limit())
		}
		undo()
	}
}

// TestOneShotResumesAtTheFirstCollection: the first collection under
// OneShot (the heap reached the limit, or a runtime.GC) turns the collector
// back on at the GOGC before, while the command still runs; its undo then
// leaves it there.
func TestOneShotResumesAtTheFirstCollection(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	gc := func() int { v := debug.SetGCPercent(-1); debug.SetGCPercent(v); return v }
	before := debug.SetMemoryLimit(-1)

	undo := OneShot(func(string) string { return "" })
	defer undo()
	if gc() != -1 {
		t.Fatalf("under OneShot: GOGC %d, want -1", gc())
	}
	// the finalizer runs on its own goroutine after the collection
	for i := 0; i < 1000 && gc() == -1; i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if gc() != GCPercent || debug.SetMemoryLimit(-1) != before {
		t.Fatalf("after a collection under OneShot: GOGC %d, limit %d; want %d and %d", gc(), debug.SetMemoryLimit(-1), GCPercent, before)
	}
	undo()
	if gc() != GCPercent {
		t.Fatalf("after undo: GOGC %d, want %d", gc(), GCPercent)
	}
}

// TestOneShotReservesWithOneCollection: in mavtop's own process (Apply
// called) the first OneShot reserves its huge pages (reserveHuge) with one
// collection, its own, forced: the reservation's allocation must not start
// another, which Apply's policy counted as its second and answered with a
// limit of a few MB (a 100k check then collected six times), and the
// collector is off after it, as without one.
func TestOneShotReservesWithOneCollection(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer mainProcess.Store(mainProcess.Load())
	mainProcess.Store(true)
	oneShot.Lock()
	oneShot.reserved = false
	oneShot.Unlock()
	gc := func() int { v := debug.SetGCPercent(-1); debug.SetGCPercent(v); return v }
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.NumGC
	undo := OneShot(func(string) string { return "" })
	defer undo()
	runtime.ReadMemStats(&ms)
	if got := ms.NumGC - before; got > 1 {
		t.Fatalf("%d collections while OneShot reserved its pages, want at most 1", got)
	}
	if gc() != -1 {
		t.Fatalf("under OneShot after its reservation: GOGC %d, want -1", gc())
	}
}
