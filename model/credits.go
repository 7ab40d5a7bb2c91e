package model

import (
	"math"
	"math/bits"
)

// AddCredits returns a + b saturated to ±MaxInt64 (never MinInt64, so it
// can be negated for display, as feed's audit clamps its sums): the one sum
// of counters and credits — used, recharged, by project and endpoint, burn,
// 402 counts. A counter is anything Redis will store, up to 2^63−1, and
// Redis refuses the HINCRBY that would pass it while the stream entry beside
// it is written: one charge of 10 on a counter at 2^63−8 wrapped the ledger
// to −9,223,372,036,854,775,806 (a gauge panicked, watch resolved
// allocation_reached; hostile11). Saturated, it stays at the top — at or
// above what the counter holds — until the next audit reads the counter back
// (the counters are the truth). Below the top it is exact, so a refund read
// before its charge (a history read back newest first) sums as in order.
func AddCredits(a, b int64) int64 {
	n := a + b
	switch {
	case a >= 0 && b >= 0 && n < 0: // past 2^63−1
		return math.MaxInt64
	case a < 0 && b < 0 && n >= 0: // below −2^63
		return -math.MaxInt64
	}
	return max(n, -math.MaxInt64)
}

// RoundCredits is x rounded to whole credits, saturated to ±MaxInt64 (NaN:
// 0): a float credit figure (a burn per hour, a number of top-ups) past the
// int64 range converts to MinInt64 on amd64, a wrapped "−9,223,…".
func RoundCredits(x float64) int64 {
	const top = float64(math.MaxInt64) // 2^63: no float between it and MaxInt64
	switch x = math.Round(x); {
	case math.IsNaN(x):
		return 0
	case x >= top:
		return math.MaxInt64
	case x <= -top:
		return -math.MaxInt64
	}
	return int64(x)
}

// thresholdAt is the fewest credits used that reach threshold t (percent)
// of capCredits by Reached's rule: ⌈t·cap/100⌉, the product in 128 bits
// (t·cap wrapped for a cap near 2^63: a recharged counter of 2^63−1000 put
// the 50 % line below 0, fired at once). Saturated at MaxInt64; 0 for a
// cap or threshold ≤ 0.
func thresholdAt(capCredits int64, t int) int64 {
	if capCredits <= 0 || t <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(t), uint64(capCredits))
	lo, c := bits.Add64(lo, 99, 0)
	hi += c
	if hi >= 100 {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, 100)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}
