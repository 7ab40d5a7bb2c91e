package memlimit

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// OneShotLimit is the heap a one-shot command (mavtop check) may reach with
// the collector off (OneShot): check at 100k workspaces allocates ~110 MB
// and keeps most of it to the end (the rows it prints), so collecting while
// it runs frees little and cost a sixth of its CPU (GOGC=400 from a fresh
// heap collected three to four times, each one scanning the rows).
const OneShotLimit = 512 << 20

// OneShotHuge is how much heap the first OneShot of mavtop's own process
// (main: Apply was called) reserves backed by transparent huge pages
// (reserveHuge), at most half its OneShotLimit: check at 100k workspaces
// writes ~130 MB of fresh heap, and in a fresh process each 4 KiB page of it
// was a fault of its own (~18k faults, a third of its CPU at load 12–14 on
// this VM: ~12 µs each), a huge page one fault per 2 MiB. A heap beyond it
// grows as usual.
const OneShotHuge = 256 << 20

// mainProcess is set by Apply: the process is mavtop's own (main), not a
// test running commands in-process, so OneShot may reserve its huge pages
// (a collection and a reservation a test binary has no use for).
var mainProcess atomic.Bool

var oneShot struct {
	sync.Mutex
	n        int   // commands running under OneShot (in-process, tests)
	gc       int   // the GOGC before the first
	limit    int64 // the soft limit before the first
	gen      int   // one per outermost OneShot, for its collection tick
	resumed  bool  // a collection came: the collector is on again
	disabled bool  // GOGC or GOMEMLIMIT in the environment: left alone
	reserved bool  // reserveHuge ran (once a process)
}

// OneShot is the memory policy of a command that reads, judges, prints once
// and exits: the collector off until the heap reaches OneShotLimit (at most
// 90 % of a cgroup's memory.max, and never above a soft limit already set),
// and at the first collection that limit forces, the GOGC before it again
// (a heap that large collects seldom at GOGC=400 anyway). Its trade is
// memory for CPU: a check's garbage is never collected, at most
// OneShotLimit of it. GOGC or GOMEMLIMIT in the environment (getenv) win:
// nothing changes. undo restores GOGC and the limit once every OneShot
// running in the process (tests run check in-process, several at once) has
// called its own.
func OneShot(getenv func(string) string) (undo func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	oneShot.Lock()
	defer oneShot.Unlock()
	if oneShot.n == 0 {
		limit := int64(OneShotLimit)
		if hard := cgroupLimit(); hard > 0 {
			limit = int64(min(hard/10*9, uint64(limit)))
		}
		if mainProcess.Load() && !oneShot.reserved {
			// before the collector is turned off: the reservation's own
			// collection must not count as the one the limit forces
			// (armOneShot)
			oneShot.reserved = true
			reserveHuge(uintptr(min(OneShotHuge, limit/2)))
		}
		oneShot.gen++
		oneShot.resumed = false
		oneShot.gc = debug.SetGCPercent(-1)
		oneShot.limit = debug.SetMemoryLimit(-1)
		debug.SetMemoryLimit(min(limit, oneShot.limit))
		armOneShot(oneShot.gen)
	}
	oneShot.n++
	done := false
	return func() {
		oneShot.Lock()
		defer oneShot.Unlock()
		if done {
			return
		}
		done = true
		oneShot.n--
		if oneShot.n == 0 {
			debug.SetGCPercent(oneShot.gc)
			debug.SetMemoryLimit(oneShot.limit)
		}
	}
}

// oneShotTick holds a pointer so it is never a tiny allocation: a tiny object
// shares its 16-byte block with others, and its finalizer may never run
// (runtime.SetFinalizer's doc), which left the collector off for the
// command's whole run (measured: the test below failed on a loaded machine).
type oneShotTick struct {
	gen int
	_   *byte
}

// armOneShot sets a finalizer that runs after the next collection: the
// heap reached the limit, so the collector goes back to the GOGC before.
func armOneShot(gen int) {
	t := &oneShotTick{gen: gen}
	runtime.SetFinalizer(t, func(t *oneShotTick) {
		oneShot.Lock()
		defer oneShot.Unlock()
		if oneShot.n == 0 || oneShot.gen != t.gen || oneShot.resumed {
			return
		}
		oneShot.resumed = true
		debug.SetGCPercent(oneShot.gc)
		debug.SetMemoryLimit(oneShot.limit)
	})
}
