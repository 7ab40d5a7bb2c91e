package model

// A start reads the last hour back newest first (Backfill) while live charges
// arrive forward. The typical interval between charges is a running average
// (typicalWeight), and a running average depends on order: folded newest
// first, it weighs the OLDEST intervals of the hour most, so a workspace whose
// spending slowed got a typical interval of its busy past and was judged idle
// sooner than by an instance that watched it all along (run_out resolved at
// "a burn of 0 credits/h" while the other still said "out in 3 min"). (The
// step rule needs no fold: it is judged from the buckets when a forecast is
// asked, burnRing.judge.)
//
// fold keeps the average exactly as a forward pass over [history, live]
// would have it, in O(1) per ring while the hour is read back. A forward
// average over x1…xN (x1 starting it) is
//
//	A = (1−w)^(N−1)·x1 + Σ_{k≥2} w·(1−w)^(N−k)·xk
//
// read newest first, xN gets w, xN−1 gets w(1−w), … and only the oldest seen
// so far gets its factor without w, which stays open until an older one comes
// (backAvg). Live intervals after the hour apply forward to whatever the
// hour's average turns out to be: their average is an affine map of it
// (fwdAvg), so the two compose once the hour is known:
//
//	A = L + (1−w)^m·(H − l1)    (H the hour's, L and l1 the live average and first value, m live values)
//
// The interval between the newest charge read back and the first live one
// belongs between the two, and is added when both are known.
type fold struct {
	hourGap backAvg
	liveGap fwdAvg
	// hourNewest and hourOldest bound the charges read back (unix ms, 0:
	// none yet); liveFirst and liveLast the live ones.
	hourNewest, hourOldest int64
	liveFirst, liveLast    int64
}

// backAvg is a forward running average fed newest first: its value is
// s + p·x, x the oldest value so far.
type backAvg struct {
	s, p, x float64
	n       int
}

func (a *backAvg) add(x float64) {
	if a.n == 0 {
		a.p = 1
	} else {
		a.s += typicalWeight * a.p * a.x
		a.p *= 1 - typicalWeight
	}
	a.x = x
	a.n++
}

func (a *backAvg) value() (float64, bool) { return a.s + a.p*a.x, a.n > 0 }

// fwdAvg is a running average fed oldest first, with its first value and
// (1−w)^(n−1), what a value before the first would still weigh.
type fwdAvg struct {
	v, first, p float64
	n           int
}

func (a *fwdAvg) add(x float64) {
	if a.n == 0 {
		a.v, a.first, a.p = x, x, 1
	} else {
		a.v += (x - a.v) * typicalWeight
		a.p *= 1 - typicalWeight
	}
	a.n++
}

// after returns the average of [before…, a's values] given before's average.
func (a *fwdAvg) after(before float64, ok bool) (float64, bool) {
	switch {
	case a.n == 0:
		return before, ok
	case !ok:
		return a.v, true
	}
	return a.v + a.p*(1-typicalWeight)*(before-a.first), true
}

// beginFold starts folding on an empty ring while the hour is read back, and
// drops the fold of a ring charged live once it is read (its average is
// final, and goes on forward from there).
func (r *burnRing) beginFold(historyPending bool) {
	switch {
	case historyPending && r.fold == nil && r.last == 0: // no charge yet (refunds are none)
		r.fold = new(fold)
	case !historyPending && r.fold != nil:
		r.settleFold()
	}
}

// settleFold ends the fold: the average is final.
func (r *burnRing) settleFold() { r.fold = nil }

// foldLive takes a live charge at ts into the fold and sets the ring's average.
func (r *burnRing) foldLive(ts int64) {
	f := r.fold
	switch {
	case f.liveFirst == 0:
		f.liveFirst, f.liveLast = ts, ts
	case ts > f.liveLast:
		f.liveGap.add(float64(ts - f.liveLast))
		f.liveLast = ts
	}
	r.gap = f.gap()
}

// foldOlder takes a charge read back at ts (older than all read before) into
// the fold and sets the ring's average.
func (r *burnRing) foldOlder(ts int64) {
	f := r.fold
	switch {
	case f.hourNewest == 0:
		f.hourNewest, f.hourOldest = ts, ts
	case ts < f.hourOldest:
		f.hourGap.add(float64(f.hourOldest - ts))
		f.hourOldest = ts
	}
	r.gap = f.gap()
}

// gap is the typical interval of [hour read so far, live].
func (f *fold) gap() float64 {
	g, ok := f.hourGap.value()
	if f.hourNewest > 0 && f.liveFirst > f.hourNewest {
		bridge := float64(f.liveFirst - f.hourNewest)
		if ok {
			g += (bridge - g) * typicalWeight
		} else {
			g, ok = bridge, true
		}
	}
	gap, _ := f.liveGap.after(g, ok)
	return gap
}
