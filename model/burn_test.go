package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestBurnRingCostsWhatItSpends: a ring holds a bucket only where credits were
// spent, and never more than the hour ending with its newest bucket; every
// window's sum equals the credits of the accepted charges in it, counted one
// by one (charges come out of order, as live events and a backfill do).
func TestBurnRingCostsWhatItSpends(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	base := t0.UnixMilli() / bucketMs
	var r burnRing
	type charge struct{ b, credits int64 }
	var accepted []charge
	newest := int64(-1 << 62)
	for i := 0; i < 5000; i++ {
		// mostly forward over three hours, sometimes back by up to 70 minutes
		b := base + int64(i)*3*HistoryBuckets/5000 - int64(rng.IntN(3))*int64(rng.IntN(420))
		credits := int64(1 + rng.IntN(50))
		ok := r.add(b*bucketMs+int64(rng.IntN(int(bucketMs))), credits, credits)
		want := b > newest-HistoryBuckets
		if ok != want {
			t.Fatalf("charge %d in bucket %d (newest %d): accepted %v, want %v", i, b, newest, ok, want)
		}
		if ok {
			accepted = append(accepted, charge{b, credits})
			newest = max(newest, b)
		}
	}
	sum := func(from, to int64) (n int64, buckets int) {
		seen := map[int64]bool{}
		for _, c := range accepted {
			if c.b >= from && c.b <= to && c.b > newest-HistoryBuckets {
				n += c.credits
				seen[c.b] = true
			}
		}
		return n, len(seen)
	}
	all, held := sum(newest-HistoryBuckets+1, newest)
	if len(r.buckets) != held || held == 0 {
		t.Fatalf("ring holds %d buckets, credits were spent in %d of the last hour's", len(r.buckets), held)
	}
	if got := r.sumRange(newest-2*HistoryBuckets, newest); got != all {
		t.Fatalf("the hour: %d credits, want %d", got, all)
	}
	for i := 0; i < 200; i++ {
		from := newest - int64(rng.IntN(HistoryBuckets))
		to := from + int64(rng.IntN(HistoryBuckets))
		if want, _ := sum(max(from, to-HistoryBuckets+1), to); r.sumRange(from, to) != want {
			t.Fatalf("[%d, %d]: %d credits, want %d", from-newest, to-newest, r.sumRange(from, to), want)
		}
	}

	// A workspace charged 36 times an hour keeps 36 buckets, with little slack.
	var sparse burnRing
	for i := 0; i < 36; i++ {
		sparse.charge(t0.Add(time.Duration(i)*100*time.Second).UnixMilli(), 3)
	}
	if len(sparse.buckets) != 36 || cap(sparse.buckets) > 45 {
		t.Fatalf("36 charges an hour: %d buckets, capacity %d; want 36, at most 45", len(sparse.buckets), cap(sparse.buckets))
	}
}

// TestCloneSharesNoBurnBuckets: after a Clone both ledgers add to their burn
// rings in place (the all-workspace ring, and a workspace's once owned); each
// must see its own charges only, though the rings had room to grow into.
func TestCloneSharesNoBurnBuckets(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	e := use("acme", "web", "/responses", 1, 0)
	l.Apply(&e)
	c := l.Clone()
	a := use("acme", "web", "/responses", 5, time.Minute)
	l.Apply(&a)
	b := use("acme", "web", "/responses", 7, time.Minute)
	c.Apply(&b)
	now := t0.Add(time.Minute + time.Second)
	for _, tc := range []struct {
		x    *Ledger
		name string
		want float64
	}{{l, "original", 5}, {c, "clone", 7}} {
		for _, ws := range []string{"", "acme"} {
			got := tc.x.Series(ws, now, BucketWidth, 1, nil)
			if got[0] != tc.want {
				t.Errorf("%s, workspace %q: newest bucket %.0f credits, want %.0f", tc.name, ws, got[0], tc.want)
			}
		}
	}
}

// TestSeedUsedByLater: a Seed without used_by draws the workspace counters at
// once; SeedUsedBy, read at a later stream id, brings the project credits, and
// the events up to that id (in the read already) count for the workspace only.
func TestSeedUsedByLater(t *testing.T) {
	period := MonthlyUTC.At(t0)
	l := NewLedger(MonthlyUTC, t0)
	l.Seed(&Snapshot{Period: period, StreamID: "100-0", Used: map[string]int64{"acme": 50}, UsedByLater: true}, t0)
	if !l.UsedByPending() || l.Totals().Used["acme"] != 50 || len(l.Totals().UsedBy) != 0 {
		t.Fatalf("before used_by: pending %v, used %d, %d project fields", l.UsedByPending(), l.Totals().Used["acme"], len(l.Totals().UsedBy))
	}
	// used_by read at 102-0: the snapshot's 50 plus the events 101 and 102
	l.SeedUsedBy(map[string]int64{UsedByField("acme", "web", "/responses"): 57, UsedByField("acme", "api", "/mave/chat"): 3}, "102-0")
	for i, c := range []int64{4, 3, 9} { // 101, 102 (in the read), 103 (after it)
		e := use("acme", "web", "/responses", c, time.Duration(i)*time.Second)
		e.ID = fmt.Sprintf("%d-0", 101+i)
		l.Apply(&e)
	}
	got := l.Totals()
	if got.Used["acme"] != 66 || got.UsedBy[UsedByField("acme", "web", "/responses")] != 66 ||
		got.UsedBy[UsedByField("acme", "api", "/mave/chat")] != 3 || l.UsedByPending() {
		t.Fatalf("used %d, web %d, api %d, pending %v; want 66, 66 (57 read + 9 after), 3, false", got.Used["acme"],
			got.UsedBy[UsedByField("acme", "web", "/responses")], got.UsedBy[UsedByField("acme", "api", "/mave/chat")], l.UsedByPending())
	}
	if all := l.Endpoints(""); len(all) != 2 || all[0] != (EndpointTotal{"/responses", 66}) || all[1] != (EndpointTotal{"/mave/chat", 3}) {
		t.Fatalf("all-workspace endpoints %v, want /responses 66, /mave/chat 3", all)
	}
}

// TestTypicalChargeAndIntervalAreRunningAverages pins the rules the step rule
// and the idle rule rest on, computed from the hour's buckets when asked, so
// charges applied live (oldest first) and read back (newest first) give the
// same: the typical charge is the hour's credits over its charges; the
// typical interval the silence between bursts (runs of buckets with charges,
// however many each holds), a running average over the hour, oldest first,
// at bucket resolution — the first silence taken as it is, each later one
// moving it by typicalWeight (1/8). Before, n charges in one bucket were n−1
// intervals of BucketWidth/n (issue 11: a bursty spender went idle a minute
// after each burst).
func TestTypicalChargeAndIntervalAreRunningAverages(t *testing.T) {
	const t0 = 1_800_000_000_000 // unix ms, the start of a bucket
	// buckets 0 and 1 (one burst), 3 (three charges: one burst), 6
	charges := []struct{ ts, credits int64 }{{t0 + 400, 10}, {t0 + 10_000, 20}, {t0 + 30_900, 40}, {t0 + 31_000, 4}, {t0 + 39_000, 6}, {t0 + 60_000, 16}}
	var live, back burnRing
	for _, c := range charges {
		live.charge(c.ts, c.credits)
	}
	for i := range charges {
		c := charges[len(charges)-1-i]
		back.charge(c.ts, c.credits)
	}
	now := int64(t0 + 61_000)
	// 20 s from bucket 1 to 3, then 20+(30−20)/8 = 21.25 s
	want := 21_250.0
	for _, tc := range []struct {
		name string
		r    *burnRing
	}{{"live", &live}, {"read back", &back}} {
		if got, gap := tc.r.typicalCharge(now, 0, 0), tc.r.typicalInterval(now); got != 16 || math.Abs(gap-want) > 1e-9 {
			t.Errorf("%s: typical charge %v, interval %v ms; want 16 and %v", tc.name, got, gap, want)
		}
	}
	// an hour on, buckets 0 and 1 have left the hour: bursts at 3 and 6
	if gap := live.typicalInterval(t0 + 3_600_000 + 15_000); gap != 30_000 {
		t.Errorf("an hour on: interval %v ms, want 30000", gap)
	}
}
