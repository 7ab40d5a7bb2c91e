package model

import (
	"math"
	"sync/atomic"
	"time"
)

// Burn history is kept in buckets so memory is O(workspaces × buckets that hold
// credits), never O(events).
const (
	// BucketWidth is the resolution of burn rates and charts.
	BucketWidth = 10 * time.Second
	bucketMs    = int64(BucketWidth / time.Millisecond)
	// HistoryBuckets is how many buckets each ring holds: one hour.
	HistoryBuckets = 360
	// History is the span a burn ring covers; longer windows are clipped to it.
	History = HistoryBuckets * BucketWidth
)

// The step rule and the idle rule (README, "Forecasts and levels: the rules").
const (
	// StepFactor: charges are a step (not a rate) only when each is at least
	// this many times the workspace's typical charge — the credits of its
	// charges in the hour ending now over their number, those charges left
	// out …
	StepFactor = 10
	// … and together at least half of the credits (steps left out) spent in
	// the BurnWindow ending with their bucket; the large charges of one
	// bucket are taken together (stepOf). One `emit --credits 7600`, or two of
	// 3800 within a BucketWidth, into a workspace that spends a few credits a
	// call is a step; a focus group in a busy workspace is not. Steps are
	// judged when a forecast is asked, from the buckets of the hour alone
	// (judge), never when a charge arrives: what a charge is cannot depend on
	// whether it was seen live or read back, nor in which order.
	//
	// typicalWeight is the weight of a new silence in the typical silence
	// between bursts (a running average over the hour, oldest first): 1/8.
	typicalWeight = 1.0 / 8
	// IdleFactor: a workspace is idle when it has spent nothing for this many
	// of its typical silences between bursts (typicalInterval), at least
	// MinIdle and at most BurnWindow (after which its window is empty anyway).
	// The one idle judgement: the row, the detail, the run_out alert (idle
	// resolves it, never holds it), check and /metrics all take it from
	// Forecast.Idle.
	IdleFactor = 4
	// MinIdle is the shortest silence that makes a workspace idle.
	MinIdle = time.Minute
	// windowBuckets is how many buckets the BurnWindow ending with a bucket holds.
	windowBuckets = int(BurnWindow / BucketWidth)
)

// burnRing holds, per BucketWidth of the last History by event time, the
// credits, the number of charges and the largest charge, and the last
// charge's time. The step rule and the idle rule are judged from the buckets
// of the hour when a forecast is asked (judge, typicalInterval): what an
// instance that watched holds of the hour equals what one started later
// reads back, in whatever order.
//
// Only buckets that hold credits exist: buckets is sorted by bucket and spans
// at most HistoryBuckets ending with the newest, so a ring costs what its
// workspace spends — a workspace charged 36 times an hour holds 36 buckets
// (864 bytes), not an hour of them (8.6 KB). At 100k workspaces that is the
// difference between a ledger of hundreds of MB and one of GBs. Nothing is
// kept per event: where a bucket's charges are of unlike sizes, its charges
// by size class are kept beside it (parts, 16 bytes a class but its
// smallest), so that all of its large charges can be one step (stepOf); a
// bucket whose charges are alike, or that holds one, keeps nothing more.
type burnRing struct {
	buckets []bucket
	// parts is what the step rule needs of buckets whose charges are not all
	// of one size (nil: none such): see part.
	parts *[]part
	// last is the time (unix ms) of the newest charge (or the end of a spread).
	last int64
	// judged is what the last forecast derived from the buckets (judged), kept
	// until they change or the hour moves past one of them: a watcher asks
	// every workspace's forecast every second, and a ring charged every 100 s
	// changes about every 50 s. Atomic: a ring not yet changed since a Clone is
	// read by both ledgers, perhaps at once, and either may store it.
	judged atomic.Pointer[ringJudged]
}

// ringJudged is what a forecast derives from the buckets buckets[lo:hi] (the
// hour ending at the time asked) with from the first of them in its window:
// the rated credits and newest step of judge, the typical interval of
// typicalInterval. Both are functions of those buckets and these three
// indexes alone, so while the buckets do not change (add drops it) an answer
// with the same indexes is the one a walk would give, to the bit. 48 bytes,
// once per ring.
type ringJudged struct {
	lo, hi, from int32
	typical      float64
	charge       float64 // typicalCharge, every step of the hour left out
	rated        int64
	newest       step
	ev           evidence
}

// judgedAt returns judge(from, now) and typicalInterval(now) (see ringJudged),
// from the last answer when the buckets they read are the same.
func (r *burnRing) judgedAt(from, now int64) *ringJudged {
	last := now / bucketMs
	first, fromB := last-HistoryBuckets+1, max(from/bucketMs, last-HistoryBuckets+1)
	// where each index is, checked by its neighbours: two loads each, not a
	// binary search over a ring whose buckets are most likely out of cache
	if c := r.judged.Load(); c != nil && r.at(int(c.lo), first) && r.at(int(c.hi), last+1) && r.at(int(c.from), fromB) {
		return c
	}
	lo, hi, fi := r.search(first), r.search(last+1), r.search(fromB)
	c := &ringJudged{lo: int32(lo), hi: int32(hi), from: int32(fi), typical: r.typicalInterval(now)}
	c.rated, c.newest, c.charge, c.ev = r.judge(from, now)
	r.judged.Store(c)
	return c
}

// at reports whether i is search(b): the index of the first bucket at or
// after b (len(buckets): none).
func (r *burnRing) at(i int, b int64) bool {
	return i >= 0 && i <= len(r.buckets) &&
		(i == 0 || int64(r.buckets[i-1].b) < b) && (i == len(r.buckets) || int64(r.buckets[i].b) >= b)
}

// bucket is one BucketWidth: b is its index (unix ms / bucketMs; an event
// whose index does not fit is not counted for burn), n its charges (credits
// > 0), sum its credits (refunds and credits spread over a gap included), top
// its largest charge (0: none). The same events give the same bucket in any
// order.
type bucket struct {
	b        int32
	n        uint32
	sum, top int64
}

// clone returns a copy of r that shares nothing with it (rings are changed in
// place by the ledger that owns them; a shared backing array would be written
// by two ledgers).
func (r *burnRing) clone() *burnRing {
	c := &burnRing{buckets: append([]bucket(nil), r.buckets...), last: r.last}
	if r.parts != nil {
		ps := append([]part(nil), *r.parts...)
		c.parts = &ps
	}
	c.judged.Store(r.judged.Load()) // the same buckets: the same answers
	return c
}

// search returns where bucket b is or would be inserted in r.buckets.
func (r *burnRing) search(b int64) int {
	lo, hi := 0, len(r.buckets)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int64(r.buckets[m].b) < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// step is one charge left out of the burn rate: its credits and the start
// of its bucket (unix ms).
type step struct{ ts, credits int64 }

// add adds credits at ts to its bucket; top is the charge (credits, > 0) or
// 0 for a refund or credits spread over a gap, which are no charge.
func (r *burnRing) add(ts, credits, top int64) bool {
	if ts < 0 || ts/bucketMs > math.MaxInt32 {
		return false
	}
	b := ts / bucketMs
	n := len(r.buckets)
	if n > 0 && b <= int64(r.buckets[n-1].b)-HistoryBuckets {
		return false // older than the ring reaches: it no longer counts for burn
	}
	if r.judged.Load() != nil {
		r.judged.Store(nil) // the buckets change: what was derived from them goes
	}
	nb := bucket{b: int32(b), sum: credits, top: top}
	if top > 0 {
		nb.n = 1
	}
	if n == 0 || b > int64(r.buckets[n-1].b) {
		// A new newest bucket: buckets it pushes out of the hour go first, so
		// the slice never holds more than an hour.
		drop := r.search(b - HistoryBuckets + 1)
		if drop > 0 {
			n = copy(r.buckets, r.buckets[drop:])
			r.buckets = r.buckets[:n]
			r.dropParts(int32(b - HistoryBuckets + 1))
		}
		r.grow()
		r.buckets = append(r.buckets, nb)
		return true
	}
	i := r.search(b)
	if x := &r.buckets[i]; int64(x.b) == b {
		r.partsAdd(x, credits, top)
		x.sum = AddCredits(x.sum, credits) // a heal's spread of a counter near 2^63, then a charge: no wrap
		x.n += nb.n
		x.top = max(x.top, top)
		return true
	}
	r.grow()
	r.buckets = append(r.buckets, bucket{})
	copy(r.buckets[i+1:], r.buckets[i:])
	r.buckets[i] = nb
	return true
}

// grow makes room for one more bucket, by a quarter rather than append's
// doubling: most rings stop growing early, and 100k of them keep their slack.
func (r *burnRing) grow() {
	if len(r.buckets) < cap(r.buckets) {
		return
	}
	n := len(r.buckets)
	c := min(n+max(n/4, 2), HistoryBuckets)
	if c <= n {
		c = n + 1 // a spread may briefly hold one beyond the hour before it is trimmed
	}
	nb := make([]bucket, n, c)
	copy(nb, r.buckets)
	r.buckets = nb
}

// charge adds one event's credits (live, or read back newest first: any
// order) and the last charge's time. Whether it is a step and how long a
// silence makes the workspace idle are judged later, when a forecast is
// asked (judge, typicalInterval).
func (r *burnRing) charge(ts, credits int64) {
	if credits <= 0 { // a refund or correction: a change of the sum, not a charge
		r.add(ts, credits, 0)
		return
	}
	r.last = max(r.last, ts)
	r.add(ts, credits, credits)
}

// average moves the running average *avg (the typical interval) towards x by
// typicalWeight; the first value (*avg 0: none yet) is taken as it is.
func average(avg *float64, x float64) {
	if *avg == 0 {
		*avg = x
		return
	}
	*avg += (x - *avg) * typicalWeight
}

// typicalInterval is the typical silence (ms) between the workspace's bursts
// at now (unix ms): a running average (typicalWeight each) over the hour
// ending now, oldest first, at bucket resolution. A burst is a run of
// buckets that hold charges with no empty bucket between them, however many
// charges each holds; the silence between two bursts is the time between the
// start of the last bucket of the one and the start of the first of the
// next. 0: fewer than two bursts in the hour. The idle rule compares a
// workspace's silence with this (idleAfter): a workspace that charges 10
// times in a second every 5 minutes is idle after 4 of its 5-minute gaps, not
// after a minute (before, the 10 charges of a bucket counted as 9 intervals
// of 1 s, and such a spender read "idle · 0/h" 4 minutes in 5 while its
// run_out alert said it ran out; README, "Forecasts and levels: the rules").
// A workspace that slows down gets the silences of its recent bursts, and
// one started later computes it from the same buckets.
func (r *burnRing) typicalInterval(now int64) float64 {
	last := now / bucketMs
	var g float64
	prev := int64(-1)
	for i := r.search(last - HistoryBuckets + 1); i < len(r.buckets) && int64(r.buckets[i].b) <= last; i++ {
		bk := &r.buckets[i]
		if bk.n == 0 {
			continue
		}
		if d := int64(bk.b) - prev; prev >= 0 && d > 1 { // a new burst
			average(&g, float64(d*bucketMs))
		}
		prev = int64(bk.b)
	}
	return g
}

// typicalCharge is the workspace's typical charge at now (unix ms): its
// credits in the hour ending now over its charges in it (0: none), with n
// charges of credits left out (0, 0: none; a step of the hour's): large
// charges that are a step are not what a charge typically costs.
func (r *burnRing) typicalCharge(now, credits int64, n uint64) float64 {
	h := r.hour(now)
	return h.typical(credits, n)
}

// hourSums is what the step rule needs of the hour ending now: its charges
// and their credits (refunds and credits spread over a gap are no charge),
// its largest charge, and the most charges one bucket holds.
type hourSums struct {
	charges, top int64
	n            uint64
	most         uint32 // the most charges one bucket holds
}

// typical is the hour's mean charge with n charges of credits left out (0:
// no charge left).
func (h *hourSums) typical(credits int64, n uint64) float64 {
	if n >= h.n {
		return 0
	}
	return float64(max(h.charges-credits, 0)) / float64(h.n-n)
}

// hour returns the sums of the buckets of the hour ending at now (unix ms).
func (r *burnRing) hour(now int64) (h hourSums) {
	last := now / bucketMs
	var ps []part
	if r.parts != nil {
		ps = *r.parts
	}
	pi := 0
	for i := r.search(last - HistoryBuckets + 1); i < len(r.buckets) && int64(r.buckets[i].b) <= last; i++ {
		bk := &r.buckets[i]
		if bk.n == 0 {
			continue // no charge
		}
		h.charges = AddCredits(h.charges, bk.sum)
		h.n += uint64(bk.n)
		h.top = max(h.top, bk.top)
		h.most = max(h.most, bk.n)
		if len(ps) == 0 {
			continue
		}
		for pi < len(ps) && ps[pi].b < bk.b {
			pi++
		}
		for ; pi < len(ps) && ps[pi].b == bk.b; pi++ {
			if ps[pi].class() == nonCharge {
				h.charges = AddCredits(h.charges, -ps[pi].sum)
			}
		}
	}
	return h
}

// mayStep reports whether any charges of the hour h can pass the
// typical-charge half of the step rule (stepOf), and mayStepIn whether any of
// bucket x can: charges of one bucket, each at most its largest, against the
// other charges of the hour, which hold at least all but that bucket's
// charges. When not, the rule need not look closer. A charge alone in the
// hour can.
func (h *hourSums) mayStep() bool {
	return h.may(h.top, float64(h.most)*float64(h.top))
}

func (h *hourSums) mayStepIn(x *bucket) bool {
	return h.may(x.top, float64(x.n)*float64(x.top))
}

func (h *hourSums) may(top int64, most float64) bool {
	if top <= 0 {
		return false
	}
	if h.n <= 1 {
		return true
	}
	// a margin, so that rounding never says no where stepOf says yes
	return float64(top)*float64(h.n-1)*(1+1e-9) >= StepFactor*(float64(h.charges)-most)
}

// judge applies the step rule at now (unix ms) to the buckets of the hour
// ending now, oldest first, and returns the credits of buckets [from, now]
// (absolute unix ms, bucket resolution) that count for a burn rate — every
// credit but the steps — the newest step among them, and the typical charge
// of the hour with every step's charges left out.
//
// A bucket's step is its largest charges that are each at least StepFactor
// times the typical charge of the hour without them (stepOf), when together
// they are at least the other credits of the BurnWindow ending with their
// bucket, older steps left out (so at least half of the window). Both sides
// are sums over buckets of the hour ending now, which an instance that
// watched holds exactly as one that read the hour back: the judgement is the
// same whichever order the charges came in.
func (r *burnRing) judge(from, now int64) (rated int64, newest step, typical float64, ev evidence) {
	last := now / bucketMs
	h := r.hour(now)
	if !h.mayStep() { // no charge of the hour can be a step
		for i := r.search(max(from/bucketMs, last-HistoryBuckets+1)); i < len(r.buckets) && int64(r.buckets[i].b) <= last; i++ {
			ev.add(&r.buckets[i], r.buckets[i].n, r.buckets[i].sum)
		}
		return max(r.sumRange(from/bucketMs, last), 0), step{}, h.typical(0, 0), ev
	}
	lo := r.search(last - HistoryBuckets + 1)
	var ps []part
	if r.parts != nil {
		ps = *r.parts
	}
	// a charge alone in its bucket needs at least this to be a step (mayStepIn
	// for one charge, as one division): most buckets are passed over at one
	// comparison
	// (and charges in a bucket of several at least minAny: mayStepIn for the
	// bucket of the most charges)
	minStep, minAny := 0.0, 0.0
	if h.n > 1 {
		minStep = StepFactor * float64(h.charges) / (float64(h.n-1)*(1+1e-9) + StepFactor)
		minAny = StepFactor * float64(h.charges) / (float64(h.n-1)*(1+1e-9) + StepFactor*float64(h.most))
	}
	// rated credits of each bucket once judged, for the sliding BurnWindow
	// (which holds at most windowBuckets of them: a ring written at ki, its
	// oldest within the window at wi), on the stack, no allocation
	var kept [windowBuckets]int64
	ki, wi := 0, 0
	var win int64 // rated credits of the judged buckets within the window of bucket i
	w := lo       // oldest bucket within that window
	fromB := from / bucketMs
	// every step's charges of the hour, left out of the typical charge: a
	// step is no typical charge for as long as it is in the hour, not only
	// while it is in the window (a single charge of 7,600 made the typical
	// charge 7,600 the moment it left the window, and 2,400 left read "<1
	// charge left" with no event)
	var left stepSet
	// open is the latest step before the bucket judged, with what of it no
	// refund has taken back yet: a refund in a later bucket (a job that
	// failed a minute after its charge) corrects it, as one in its own
	// bucket does, not the rate
	var open step
	for i := lo; i < len(r.buckets) && int64(r.buckets[i].b) <= last; i++ {
		bk := &r.buckets[i]
		for ; int64(r.buckets[w].b) <= int64(bk.b)-int64(windowBuckets); w++ {
			win = AddCredits(win, -kept[wi])
			if wi++; wi == windowBuckets {
				wi = 0
			}
		}
		k := bk.sum
		stepped := false
		var stepN uint64 // the step's charges (stepped)
		if t := float64(bk.top); bk.top > 0 && t >= minAny && (t >= minStep || bk.n > 1 && h.mayStepIn(bk)) {
			var own []part // the bucket's parts
			if len(ps) > 0 {
				pi := partSearch(ps, bk.b)
				pj := pi
				for pj < len(ps) && ps[pj].b == bk.b {
					pj++
				}
				own = ps[pi:pj]
			}
			// the step rule: charges each at least StepFactor typical
			// charges of the hour without them, and together at least the
			// window's other credits
			if s := h.stepOf(bk, own); s.n > 0 && s.gross >= win+bk.sum-s.gross {
				k -= s.credits
				s.ts = int64(bk.b) * bucketMs
				open, stepped, stepN = s.step, true, s.n
				left.gross, left.n = left.gross+s.gross, left.n+s.n
				if int64(bk.b) >= fromB {
					newest = s.step
				}
			}
		}
		if !stepped && open.credits > 0 {
			if back := max(r.refundsIn(bk, ps), -open.credits); back < 0 {
				k -= back // the refund is the step's, not the rate's
				open.credits += back
				if newest.ts == open.ts {
					newest.credits = open.credits
				}
			}
		}
		kept[ki] = k
		if ki++; ki == windowBuckets {
			ki = 0
		}
		win = AddCredits(win, k)
		if int64(bk.b) >= fromB {
			rated = AddCredits(rated, k)
			ev.add(bk, bk.n-uint32(min(stepN, uint64(bk.n))), k)
		}
	}
	return max(rated, 0), newest, h.typical(left.gross, left.n), ev
}

// evidence is what the window's rated credits (steps left out) say of how
// much spending a burn rate rests on (EnoughEvidence): its charges, and the
// first and last bucket holding rated credits (charges, or credits spread
// over a gap; has: any).
type evidence struct {
	charges     uint32
	has         bool
	first, last int32
}

// add counts bucket x (buckets come oldest first) with n of its charges and
// k credits rated.
func (e *evidence) add(x *bucket, n uint32, k int64) {
	e.charges += n
	if k <= 0 {
		return
	}
	if !e.has {
		e.first, e.has = x.b, true
	}
	e.last = x.b
}

// span is the time between the first and the last bucket holding rated
// credits (0: one or none).
func (e *evidence) span() time.Duration {
	if !e.has {
		return 0
	}
	return time.Duration(e.last-e.first) * BucketWidth
}

// refundsIn returns the credits of bucket x that are refunds (≤ 0): the
// negative credits that are no charge, kept apart in its parts (ps: the
// ring's) when it holds charges too, else its sum when below 0.
func (r *burnRing) refundsIn(x *bucket, ps []part) int64 {
	if x.n == 0 {
		return min(x.sum, 0)
	}
	if len(ps) == 0 {
		return 0
	}
	for i := partSearch(ps, x.b); i < len(ps) && ps[i].b == x.b; i++ {
		if ps[i].class() == nonCharge {
			return min(ps[i].sum, 0)
		}
	}
	return 0
}

// idleAfter is how long a silence makes a workspace idle whose typical
// silence between bursts is typical (ms, typicalInterval): IdleFactor of
// them, between MinIdle and BurnWindow.
func idleAfter(typical float64) time.Duration {
	d := time.Duration(IdleFactor * typical * float64(time.Millisecond))
	return min(max(d, MinIdle), BurnWindow)
}

// spread adds credits found without their events (a heal after a gap) evenly
// over [from, to] (unix ms): their share before the ring's reach is dropped, as
// it would have been had the events been read. The amounts telescope, so
// exactly the credits within reach are added.
func (r *burnRing) spread(from, to, credits int64) {
	if credits == 0 {
		return
	}
	if from >= to {
		r.add(to, credits, 0)
	} else {
		span := float64(to - from)
		share := func(at int64) int64 { return RoundCredits(float64(credits) * float64(at-from) / span) } // 2^63 converted to MinInt64
		lo := max(from, (to/bucketMs-HistoryBuckets+1)*bucketMs)
		for b := lo / bucketMs; b <= to/bucketMs; b++ {
			start, end := max(b*bucketMs, lo), min((b+1)*bucketMs, to)
			if n := share(end) - share(start); n != 0 {
				r.add(b*bucketMs, n, 0)
			}
		}
	}
	r.last = max(r.last, to)
}

// sumRange returns credits in buckets [from, to] (absolute indexes, at most one ring).
func (r *burnRing) sumRange(from, to int64) int64 {
	if to-from >= HistoryBuckets {
		from = to - HistoryBuckets + 1
	}
	var total int64
	for i := r.search(from); i < len(r.buckets) && int64(r.buckets[i].b) <= to; i++ {
		total = AddCredits(total, r.buckets[i].sum)
	}
	return total
}
