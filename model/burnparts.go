package model

import "math/bits"

// A bucket's charges by size, so that all of a bucket's large charges can be
// one step, not only its largest: two `emit --credits 3800` within one
// BucketWidth into a workspace spending a few credits a call are a step of
// 7,600 (README, "Forecasts and levels: the rules"). Charges are told apart
// by size class — a power of eight, sizeClass — and only in buckets whose
// charges are not all of one class: there each class but the bucket's
// smallest keeps its number of charges and its credits (the smallest is what
// the bucket's sums hold besides), and credits that are no charge (refunds,
// credits spread over a gap) are kept apart too. What a bucket keeps is the
// same whichever order its charges came in: the classes present but the
// smallest, and the credits that are no charge.
const (
	// nonCharge is the class of a bucket's credits that are no charge:
	// refunds and corrections, and credits spread over a gap.
	nonCharge = 63
	// partCountBits is how many bits of part.cn hold the number of charges
	// (the class takes the 6 above them).
	partCountBits = 26
	partCountMask = 1<<partCountBits - 1
)

// part is one size class of one bucket (b): its number of charges and its
// credits, or the bucket's credits that are no charge (class nonCharge, no
// charges). cn holds the class in its top 6 bits and the number of charges
// below them; 16 bytes.
type part struct {
	b   int32
	cn  uint32
	sum int64
}

func (p *part) class() int { return int(p.cn >> partCountBits) }
func (p *part) n() uint64  { return uint64(p.cn & partCountMask) }

// sizeClass is the size class of a charge (credits > 0): k for charges in
// [8^k, 8^(k+1)). A power of eight: a charge StepFactor times another is of a
// class above it, and the ordinary charges of a busy workspace (1 to 40
// credits, say) make two classes, not three.
func sizeClass(credits int64) int { return (bits.Len64(uint64(credits)) - 1) / 3 }

// partRange returns where the parts of bucket b are in r.parts: [lo, hi).
func (r *burnRing) partRange(b int32) (lo, hi int) {
	if r.parts == nil {
		return 0, 0
	}
	ps := *r.parts
	n := len(ps)
	if n == 0 || ps[n-1].b < b {
		return n, n
	}
	if ps[n-1].b == b { // the newest bucket, where live charges go: no search
		lo = n - 1
		for lo > 0 && ps[lo-1].b == b {
			lo--
		}
		return lo, n
	}
	lo = partSearch(ps, b)
	for hi = lo; hi < n && ps[hi].b == b; hi++ {
	}
	return lo, hi
}

// partSearch returns the index of the first part of a bucket at or after b.
func partSearch(ps []part, b int32) int {
	lo, hi := 0, len(ps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps[m].b < b {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// putPart adds n charges of credits sum to class c of bucket b, whose parts
// are r.parts[lo:hi] (partRange).
func (r *burnRing) putPart(lo, hi int, b int32, c int, n uint64, sum int64) {
	if r.parts == nil {
		r.parts = new([]part)
	}
	ps := *r.parts
	i := lo
	for i < hi && ps[i].class() < c {
		i++
	}
	if i < hi && ps[i].class() == c {
		ps[i].cn = uint32(c)<<partCountBits | uint32(min(ps[i].n()+n, partCountMask))
		ps[i].sum = AddCredits(ps[i].sum, sum)
		return
	}
	if len(ps) == cap(ps) { // by a quarter, as buckets grow
		ps = append(make([]part, 0, len(ps)+max(len(ps)/4, 2)), ps...)
	}
	ps = append(ps, part{})
	copy(ps[i+1:], ps[i:])
	ps[i] = part{b: b, cn: uint32(c)<<partCountBits | uint32(min(n, partCountMask)), sum: sum}
	*r.parts = ps
}

// dropParts drops the parts of buckets before b (they left the hour).
func (r *burnRing) dropParts(b int32) {
	if r.parts == nil {
		return
	}
	ps := *r.parts
	i := partSearch(ps, b)
	if i == 0 {
		return
	}
	if i == len(ps) {
		r.parts = nil // none left: a ring whose buckets became alike again keeps nothing
		return
	}
	n := copy(ps, ps[i:])
	*r.parts = ps[:n]
}

// partsAdd records in the parts what one event adds to bucket x, before x
// counts it: credits, and top the charge (0: credits that are no charge). A
// bucket without parts holds charges of one class alone and no other
// credits, or no charge at all; one with parts holds, besides them, charges
// of its smallest class (its rest: rest).
func (r *burnRing) partsAdd(x *bucket, credits, top int64) {
	lo, hi := r.partRange(x.b)
	if top == 0 {
		if credits != 0 && x.n > 0 { // other credits beside charges
			r.putPart(lo, hi, x.b, nonCharge, 0, credits)
		}
		return
	}
	c := sizeClass(top)
	n, sum := uint64(x.n), x.sum // without parts: all of one class
	if lo == hi {
		if x.n == 0 {
			if x.sum != 0 { // the first charge of a bucket of other credits
				r.putPart(lo, hi, x.b, nonCharge, 0, x.sum)
			}
			return
		}
	} else {
		ps := (*r.parts)[lo:hi]
		for i := range ps {
			if ps[i].class() == c { // a class kept apart already
				if ps[i].n() < partCountMask {
					ps[i].cn++
				}
				ps[i].sum = AddCredits(ps[i].sum, top)
				return
			}
			n, sum = n-ps[i].n(), sum-ps[i].sum
		}
	}
	switch k := sizeClass(sum / int64(max(n, 1))); { // the smallest class
	case c > k:
		r.putPart(lo, hi, x.b, c, 1, top)
	case c < k: // the charge is the smallest now: the former smallest is kept apart
		r.putPart(lo, hi, x.b, k, n, sum)
	}
}

// stepSet is the charges of one bucket the step rule takes together: n
// charges of gross credits, credits of them left out of the burn once the
// bucket's refunds took their share (ts: the bucket's start, unix ms).
type stepSet struct {
	step
	gross int64
	n     uint64
}

// stepOf returns the charges of bucket x (ps: its parts) that are a step by
// the typical-charge half of the step rule in an hour of h, or none (n 0).
// Its charges are taken largest first — the largest alone, the rest of its
// class, then each class below it — and the most of them that are each (a
// class: on average) at least StepFactor times the typical charge of the hour
// without them are the step; a group of charges with no other charge in the
// hour is none (a burst alone is a rate), a charge alone is one. The
// bucket's refunds come off the step first: they correct the charges they
// came with.
func (h *hourSums) stepOf(x *bucket, ps []part) stepSet {
	var best stepSet
	var s int64
	var n uint64
	// take adds the next group, of k charges of credits sum, and keeps the
	// charges taken so far when it passes
	take := func(k uint64, sum int64) {
		if k == 0 {
			return
		}
		s, n = s+sum, n+k
		if n > h.n {
			return
		}
		rest := h.n - n
		if rest == 0 && n == 1 || rest > 0 &&
			float64(sum)*float64(rest) >= StepFactor*float64(max(h.charges-s, 0))*float64(k) {
			best.gross, best.n = s, n
		}
	}
	var nc int64
	if len(ps) > 0 && ps[len(ps)-1].class() == nonCharge {
		nc = ps[len(ps)-1].sum
		ps = ps[:len(ps)-1]
	}
	rn, rsum := uint64(x.n), x.sum-nc // the smallest class, with the ones kept apart taken off
	for i := range ps {
		rn, rsum = rn-ps[i].n(), rsum-ps[i].sum
	}
	take(1, x.top) // the largest, alone
	if len(ps) == 0 {
		take(rn-1, rsum-x.top) // the rest of its class
	} else {
		top := len(ps) - 1
		take(ps[top].n()-1, ps[top].sum-x.top)
		for i := top - 1; i >= 0; i-- {
			take(ps[i].n(), ps[i].sum)
		}
		take(rn, rsum)
	}
	if best.n > 0 {
		best.credits = max(best.gross+min(nc, 0), 0)
	}
	return best
}
