// Package memlimit is mavtop's memory policy. Its live heap is a few MB at a
// few hundred workspaces and hundreds of MB at 100k, while go-redis allocates
// for every entry read: a high GOGC makes ingest cheap while the heap is small,
// and a soft memory limit set from the live heap keeps a large heap from
// growing to five times itself. The limit holds the highest value the recent
// collections asked for (Hold), so the process's footprint stays level instead
// of following the live heap's swings up and down; what it holds is the live
// heap two collections in a row found (the floor), so a burst of garbage that
// one collection happens to find live does not raise it for Hold.
package memlimit

import (
	"io/fs"
	"math"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// GCPercent is the GOGC mavtop runs with unless GOGC is set: collect when the
// heap has grown by 4× the live heap since the last collection.
const GCPercent = 400

// MinHeadroom is the least garbage the soft limit allows above the live heap:
// below 8 MiB of live heap GCPercent alone decides (8 MiB × 5 = 40 MiB), so
// a dashboard of a few hundred workspaces keeps GOGC=400's ingest speed,
// while a start reading back a 1M-entry hour (a GB of go-redis garbage over
// a live heap of ~20 MB) peaks near 20 + 32 MiB of heap. At 64 MiB that peak
// was ~70 MiB of heap and 96 MB of RSS (the binary and the runtime beside
// the heap), against a target of 100 MB; the trade is up to twice the
// collections while the live heap is between 8 and 64 MiB (at 1,000 workspaces
// and a 1M-entry hour read back: ~40 collections of ~20 MB instead of ~20).
const MinHeadroom = 32 << 20

// Limit returns the soft memory limit for a live heap of live bytes: the live
// heap plus as much again (GOGC=100's growth) but at least MinHeadroom above
// it, and at most 90 % of hardCap (a cgroup's memory.max; 0: none) so the
// collector works harder before the kernel kills the process. Limit is pure.
func Limit(live, hardCap uint64) uint64 {
	l := live + max(live, MinHeadroom)
	if hardCap > 0 {
		l = min(l, hardCap/10*9)
	}
	return l
}

// Hold is how long the soft limit keeps the height a collection asked for: it
// is the highest Limit of the collections of the last Hold, so it rises at
// once when the live heap grows and falls only after the live heap has stayed
// lower for that long. At 100k workspaces the live heap swings by ±30 % from
// one collection to the next (a viewer's own copies of the states it changed
// come and go with its fresh ledger copies): a limit following each
// collection moved the process's RSS with it (±30 % in 10-s samples), while
// a held one lets the heap use the same pages over and over.
const Hold = 10 * time.Minute

// floor is what the limit is computed from: the lower of the live heaps the
// last two collections found. A burst of short-lived data that one
// collection finds live — the audit's full read of every counter hash (at
// 100k workspaces ~100 MB of go-redis replies), the start's used_by fold, a
// viewer's fresh ledger copy — lasts less than the ~10–30 s between
// collections at that size; held for Hold, each one a collection caught
// raised the limit, and the RSS with it, by twice its size (measured: RSS
// rising by steps from 767 to 978 MB over 10 minutes at 100k workspaces). A
// live heap that grew stays grown at the next collection and raises the
// limit then.
type floor struct{ prev uint64 }

// add records the live heap a collection found and returns the floor.
func (f *floor) add(live uint64) uint64 {
	lo := live
	if f.prev > 0 {
		lo = min(lo, f.prev)
	}
	f.prev = live
	return lo
}

// next is the limit to set after a collection at time at found live bytes
// live: Limit of the floor, held at the highest of the last Hold, and never
// less than the live heap plus MinHeadroom (capped as Limit caps), so a burst
// the floor leaves out still leaves the collector room.
func (s *state) next(at time.Time, live, hardCap uint64) uint64 {
	l := s.high.add(at, Limit(s.floor.add(live), hardCap))
	least := live + MinHeadroom
	if hardCap > 0 {
		least = min(least, hardCap/10*9)
	}
	return max(l, least)
}

// state is the policy's memory of past collections.
type state struct {
	floor floor
	high  highWater
	// seen counts the collections recorded (after, up to 2)
	seen int
}

// after records a collection at time at that found live bytes live and
// returns the limit to set (next) and whether to set it: not after the first
// collection of the process, whose live heap is what a start had built by
// then (a few MB at its first 16 MB of heap). From there GCPercent alone
// decides until the second: a limit of that first live heap plus MinHeadroom
// collected a 100k-workspace start every MinHeadroom while it built its
// ledger, each collection marking more of it. Under a cgroup limit (hardCap)
// its 90 % binds from the start (see Apply).
func (s *state) after(at time.Time, live, hardCap uint64) (uint64, bool) {
	l := s.next(at, live, hardCap)
	if s.seen < 2 {
		s.seen++
	}
	return l, s.seen >= 2
}

// highWater is the limits the recent collections asked for, highest first
// (each one older than the next): the highest of the last Hold is the first.
type highWater struct{ marks []mark }

type mark struct {
	at    time.Time
	limit uint64
}

// add records a collection at time at asking for limit and returns the limit
// to set: the highest asked for within Hold before at.
func (h *highWater) add(at time.Time, limit uint64) uint64 {
	for len(h.marks) > 0 && h.marks[len(h.marks)-1].limit <= limit {
		h.marks = h.marks[:len(h.marks)-1] // lower and older: never the highest again
	}
	h.marks = append(h.marks, mark{at, limit})
	for !h.marks[0].at.After(at.Add(-Hold)) {
		h.marks = h.marks[1:]
	}
	return h.marks[0].limit
}

// Policy is the running memory policy (see Apply).
type Policy struct {
	// GCPercent is the GOGC in effect; LimitFollows says the soft limit follows
	// the live heap (false when GOMEMLIMIT set it); HardCap is the cgroup
	// memory limit found (0: none).
	GCPercent    int
	LimitFollows bool
	HardCap      uint64
	stopped      atomic.Bool
	sample       []metrics.Sample
	mu           sync.Mutex
	st           state
}

// Apply sets mavtop's memory policy and returns it: GOGC=GCPercent unless the
// environment (getenv, os.Getenv in main) sets GOGC, and, unless it sets
// GOMEMLIMIT (any value, "off" included), a soft memory limit re-computed by
// Limit after every garbage collection from the second on (see state.after)
// from the lower live heap of the last two (see floor) and held at the
// highest of the last Hold. Call it once, at start: it marks the process as
// mavtop's own, whose first OneShot reserves huge pages (OneShotHuge).
func Apply(getenv func(string) string) *Policy {
	mainProcess.Store(true)
	p := &Policy{GCPercent: GCPercent}
	if v := getenv("GOGC"); v != "" {
		p.GCPercent = debug.SetGCPercent(-1) // read what the runtime parsed…
		debug.SetGCPercent(p.GCPercent)      // …and leave it
	} else {
		debug.SetGCPercent(GCPercent)
	}
	if getenv("GOMEMLIMIT") != "" {
		return p
	}
	p.LimitFollows = true
	p.HardCap = cgroupLimit()
	p.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	if p.HardCap > 0 { // until the second collection (state.after): the cgroup's 90 %
		debug.SetMemoryLimit(int64(min(p.HardCap/10*9, math.MaxInt64)))
	}
	p.arm()
	return p
}

// Stop ends the limit's following (tests); the last limit stays.
func (p *Policy) Stop() { p.stopped.Store(true) }

// Live returns the live heap measured at the end of the last collection.
func (p *Policy) Live() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// adjust sets the soft limit from the live heap the last collection found
// (see state.after).
func (p *Policy) adjust() {
	p.mu.Lock()
	defer p.mu.Unlock()
	metrics.Read(p.sample)
	if l, set := p.st.after(time.Now(), p.sample[0].Value.Uint64(), p.HardCap); set {
		debug.SetMemoryLimit(int64(min(l, math.MaxInt64)))
	}
}

// gcTick is garbage that is found once per collection: its cleanup re-computes
// the limit and makes the next one.
type gcTick struct{ p *Policy }

func (p *Policy) arm() {
	t := &gcTick{p: p}
	runtime.SetFinalizer(t, func(t *gcTick) {
		if t.p.stopped.Load() {
			return
		}
		t.p.adjust()
		t.p.arm()
	})
}

// cgroupLimit returns the memory limit of this process's cgroup, 0 when there
// is none or it cannot be read (see cgroupLimitIn).
func cgroupLimit() uint64 {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	return cgroupLimitIn(os.DirFS("/"), string(self))
}

// cgroupLimitIn returns the tightest memory limit on the cgroup self (the
// text of /proc/self/cgroup) names, read under fsys (the root): v2's
// memory.max, v1's memory.limit_in_bytes, of the process's cgroup and of
// every one above it (a limit on a parent binds its children). Reading the
// mount's root alone missed a limit set on the process's own group (a
// systemd unit's MemoryMax, a v1 host without cgroup namespaces) and let the
// soft limit pass it. 0: no limit ("max", v1's page-rounded MaxInt64).
func cgroupLimitIn(fsys fs.FS, self string) uint64 {
	var lim uint64
	for _, line := range strings.Split(self, "\n") {
		f := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(f) < 3 {
			continue
		}
		dir, file := "sys/fs/cgroup", "memory.max" // v2
		if f[0] != "0" || f[1] != "" {
			if !slices.Contains(strings.Split(f[1], ","), "memory") {
				continue
			}
			dir, file = "sys/fs/cgroup/memory", "memory.limit_in_bytes"
		}
		for p := path.Clean("/" + f[2]); ; p = path.Dir(p) {
			b, err := fs.ReadFile(fsys, path.Join(dir, p, file))
			if n, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && perr == nil && n < 1<<60 && (lim == 0 || n < lim) {
				lim = n
			}
			if p == "/" {
				break
			}
		}
	}
	return lim
}
