package model

import "time"

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

// The step rule and the idle rule (README, "Forecasts").
const (
	// StepFactor: a charge is a step (not a rate) only when it is at least this
	// many times the workspace's typical charge …
	StepFactor = 10
	// … and at least half of the credits (steps left out) spent in the BurnWindow
	// ending with it. One `emit --credits 7600` into a workspace that spends a
	// few credits a call is a step; a focus group in a busy workspace is not.
	//
	// typicalWeight is the weight of a new charge in the typical charge and the
	// typical interval (running averages): 1/8.
	typicalWeight = 1.0 / 8
	// IdleFactor: a workspace is idle when it has spent nothing for this many
	// of its typical intervals between charges, at least MinIdle and at most
	// BurnWindow (after which its window is empty anyway).
	IdleFactor = 4
	// MinIdle is the shortest silence that makes a workspace idle.
	MinIdle = time.Minute
	// maxSteps is how many recent steps a ring remembers (all within an hour).
	maxSteps = 4
)

// burnRing holds credits per BucketWidth for the last History, by event time,
// and what the forecast needs to know of single charges: the last one, the
// typical one, the typical interval and the recent steps.
//
// Only buckets that hold credits exist: buckets is sorted by bucket and spans
// at most HistoryBuckets ending with the newest, so a ring costs what its
// workspace spends — a workspace charged 36 times an hour holds 36 buckets
// (576 bytes), not an hour of them (5.8 KB). At 100k workspaces that is the
// difference between a ledger of hundreds of MB and one of GBs.
type burnRing struct {
	buckets []bucket
	// last is the time (unix ms) of the newest charge (or the end of a spread),
	// oldest of the oldest.
	last, oldest int64
	// typical is a running average of charge sizes; gap of the time (ms)
	// between charges. 0: none seen yet.
	typical, gap float64
	// steps are the latest charges judged steps (credits 0: empty slot).
	steps    [maxSteps]step
	nextStep uint8
	// fold keeps typical and gap in forward order while the hour is read
	// back (burnfold.go); nil otherwise.
	fold *fold
}

// bucket is the credits of one BucketWidth: b is its index (unix ms / bucketMs).
type bucket struct{ b, sum int64 }

// clone returns a copy of r that shares nothing with it (rings are changed in
// place by the ledger that owns them; a shared backing array would be written
// by two ledgers).
func (r *burnRing) clone() *burnRing {
	c := *r
	c.buckets = append([]bucket(nil), r.buckets...)
	if r.fold != nil {
		f := *r.fold
		c.fold = &f
	}
	return &c
}

// search returns where bucket b is or would be inserted in r.buckets.
func (r *burnRing) search(b int64) int {
	lo, hi := 0, len(r.buckets)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.buckets[m].b < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// has reports whether bucket b is held.
func (r *burnRing) has(b int64) bool {
	i := r.search(b)
	return i < len(r.buckets) && r.buckets[i].b == b
}

// step is one charge left out of the burn rate.
type step struct{ ts, credits int64 }

func (r *burnRing) add(ts, credits int64) bool {
	if ts < 0 {
		return false
	}
	b := ts / bucketMs
	n := len(r.buckets)
	if n > 0 && b <= r.buckets[n-1].b-HistoryBuckets {
		return false // older than the ring reaches: it no longer counts for burn
	}
	if n == 0 || b > r.buckets[n-1].b {
		// A new newest bucket: buckets it pushes out of the hour go first, so
		// the slice never holds more than an hour.
		drop := r.search(b - HistoryBuckets + 1)
		if drop > 0 {
			n = copy(r.buckets, r.buckets[drop:])
			r.buckets = r.buckets[:n]
		}
		r.grow()
		r.buckets = append(r.buckets, bucket{b: b, sum: credits})
		return true
	}
	i := r.search(b)
	if r.buckets[i].b == b {
		r.buckets[i].sum += credits
		return true
	}
	r.grow()
	r.buckets = append(r.buckets, bucket{})
	copy(r.buckets[i+1:], r.buckets[i:])
	r.buckets[i] = bucket{b: b, sum: credits}
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

// charge adds one event's credits and updates what the forecast knows of
// single charges: the step rule, the typical charge and interval, the last
// charge's time. It costs a few comparisons except when a charge is at least
// StepFactor times the typical one: then the window is summed.
func (r *burnRing) charge(ts, credits int64) {
	if credits <= 0 { // a refund or correction: a change of the sum, not a charge
		r.add(ts, credits)
		return
	}
	if r.oldest == 0 || ts < r.oldest {
		r.oldest = ts
	}
	if ts > r.last {
		if r.last > 0 {
			average(&r.gap, float64(ts-r.last))
		}
		r.last = ts
	}
	c := float64(credits)
	isStep := c >= StepFactor*r.typical && credits >= r.rated(ts-BurnWindow.Milliseconds(), ts)
	// nothing known before it only because the hour is not read back yet:
	// judged once it is (settleFold)
	deferred := r.fold != nil && r.typical == 0
	average(&r.typical, c)
	if r.fold != nil { // the hour is being read back: averages in forward order (burnfold.go)
		r.foldLive(ts, c)
	}
	if r.add(ts, credits) && isStep {
		if deferred {
			r.fold.deferred = step{ts: ts, credits: credits}
		} else {
			r.pushStep(ts, credits)
		}
	}
}

// chargeOlder is charge for an event older than every charge the ring holds
// (history read back newest first, model.Ledger.Backfill): the typical charge
// and interval learn from it the same way; it is a step when it is StepFactor
// times the typical charge of the newer ones and at least half of what was
// spent in the BurnWindow after it (the mirror of charge's rule: the window
// before it is not read yet). A charge with nothing newer is never a step here.
// While the ring folds (burnfold.go), the averages are kept in forward order.
func (r *burnRing) chargeOlder(ts, credits int64) {
	if credits <= 0 {
		r.add(ts, credits)
		return
	}
	switch {
	case r.last == 0:
		r.last, r.oldest = ts, ts
		if r.fold == nil && len(r.buckets) == 0 {
			r.fold = new(fold) // a ring the hour starts: averages in forward order
		}
	case ts > r.last: // a live charge came in between: newer after all
		r.charge(ts, credits)
		return
	case ts < r.oldest:
		average(&r.gap, float64(r.oldest-ts))
		r.oldest = ts
	}
	c := float64(credits)
	isStep := r.typical > 0 && c >= StepFactor*r.typical && credits >= r.rated(ts, ts+BurnWindow.Milliseconds())
	average(&r.typical, c)
	if r.fold != nil {
		r.foldOlder(ts, c)
	}
	if r.add(ts, credits) && isStep {
		r.pushStep(ts, credits)
	}
}

// average moves the running average *avg (the typical charge or interval)
// towards x by typicalWeight; the first value (*avg 0: none yet) is taken as
// it is. charge and chargeOlder learn the same way, whichever end of the
// history a charge comes from.
func average(avg *float64, x float64) {
	if *avg == 0 {
		*avg = x
		return
	}
	*avg += (x - *avg) * typicalWeight
}

func (r *burnRing) pushStep(ts, credits int64) {
	r.steps[r.nextStep] = step{ts: ts, credits: credits}
	r.nextStep = (r.nextStep + 1) % maxSteps
}

// rated returns the credits in buckets [from, to] (unix ms, bucket
// resolution) that count for a burn rate: every credit but the steps.
func (r *burnRing) rated(from, to int64) int64 {
	first, last := from/bucketMs, to/bucketMs
	total := r.sumRange(first, last)
	for _, st := range r.steps {
		if st.credits == 0 {
			continue
		}
		b := st.ts / bucketMs
		if b >= first && b <= last && b > last-HistoryBuckets && r.has(b) {
			total -= st.credits
		}
	}
	return max(total, 0)
}

// lastStep returns the newest step at or after from (unix ms), if any.
func (r *burnRing) lastStep(from int64) (step, bool) {
	var best step
	for _, st := range r.steps {
		if st.credits != 0 && st.ts >= from && st.ts >= best.ts {
			best = st
		}
	}
	return best, best.credits != 0
}

// idleAfter is how long a silence makes the ring's workspace idle: IdleFactor
// typical intervals, between MinIdle and BurnWindow.
func (r *burnRing) idleAfter() time.Duration {
	d := time.Duration(IdleFactor * r.gap * float64(time.Millisecond))
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
		r.add(to, credits)
	} else {
		span := float64(to - from)
		share := func(at int64) int64 { return int64(float64(credits)*float64(at-from)/span + 0.5) }
		lo := max(from, (to/bucketMs-HistoryBuckets+1)*bucketMs)
		for b := lo / bucketMs; b <= to/bucketMs; b++ {
			start, end := max(b*bucketMs, lo), min((b+1)*bucketMs, to)
			if n := share(end) - share(start); n != 0 {
				r.add(b*bucketMs, n)
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
	for i := r.search(from); i < len(r.buckets) && r.buckets[i].b <= to; i++ {
		total += r.buckets[i].sum
	}
	return total
}
