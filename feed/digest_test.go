package feed

import (
	"context"
	"hash/maphash"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// digestAgreesWithCounters reads the counters and the digest in one MULTI and
// says whether the digest sums the counters shard by shard.
func digestAgreesWithCounters(t *testing.T, c redis.UniversalClient) bool {
	t.Helper()
	res, err := ReadSnapshot(context.Background(), c, Keys{}, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	return tallyOf(maphash.MakeSeed(), res.Snap, res.rawSettings).digestAgrees(res.digest)
}

// TestPublisherKeepsTheDigest: usage, 402s and recharges of many workspaces,
// one by one and in batches, leave the digest equal to the per-shard sums of
// the counters, as the audit reads them.
func TestPublisherKeepsTheDigest(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	pub := NewPublisher(c, PublisherOptions{ChunkSize: 7})
	var batch []model.Event
	for i := range 500 {
		batch = append(batch, mixedEvent(i))
		if i%50 == 0 {
			batch = append(batch, model.Event{Kind: model.KindRecharge, Workspace: "ws-" + strconv.Itoa(i), Credits: int64(100 + i)})
		}
	}
	if err := pub.TrackBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	trackAll(t, pub, refused("solo", "", "/responses", model.CodeCreditsExhausted), usage("solo", "", "/responses", 9))
	if !digestAgreesWithCounters(t, c) {
		t.Fatal("the publisher's digest does not sum its counters")
	}
	// The check can fail: one credit more in a counter, and it does not agree.
	if err := c.HIncrBy(context.Background(), Keys{}.Used(model.MonthlyUTC.At(time.Now()).Key), "solo", 1).Err(); err != nil {
		t.Fatal(err)
	}
	if digestAgreesWithCounters(t, c) {
		t.Fatal("the digest agrees with counters it does not sum")
	}
}

// editBehindTheBack adds n credits to ws's counters and to its digest shard in
// one MULTI, without a stream entry: a writer that keeps the digest but the
// stream does not tell mavtop about.
func editBehindTheBack(t *testing.T, c redis.UniversalClient, ws string, n int64) {
	t.Helper()
	ctx := context.Background()
	p := model.MonthlyUTC.At(time.Now()).Key
	k := Keys{}
	if _, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HIncrBy(ctx, k.Used(p), ws, n)
		pipe.HIncrBy(ctx, k.UsedBy(p), model.UsedByField(ws, "", "/responses"), n)
		pipe.HIncrBy(ctx, k.Digest(p), DigestUsedField(ws), n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestDigestAuditHealsAnEditInOneShard: while producers keep the digest, the
// audits on the cadence read only the digest, yet counters edited behind
// mavtop's back in one shard (no stream entry) are found by the next one and
// healed at once by a full read, and audits go on reading the digest. On a
// Redis Cluster too (every key shares the prefix's hash tag, so the digest
// joins the MULTI) and on the embedded server.
func TestDigestAuditHealsAnEditInOneShard(t *testing.T) {
	servers(t, testDigestAuditHealsAnEditInOneShard)
}

func testDigestAuditHealsAnEditInOneShard(t *testing.T, c redis.UniversalClient) {
	pub := NewPublisher(c, PublisherOptions{})
	var evs []model.Event
	for i := range 300 {
		evs = append(evs, mixedEvent(i))
	}
	if err := pub.TrackBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 100 * time.Millisecond, StatsEvery: 50 * time.Millisecond})
	f.waitFor("audits by the digest", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.AuditByDigest && st.DigestAudits >= 3
	})
	f.mu.Lock()
	if st := f.lastStats(); st.DigestMisses != 0 || len(f.snaps) != 1 {
		t.Errorf("nothing differs, yet %d digest misses and snapshots %v", st.DigestMisses, reasons(f.snaps))
	}
	f.mu.Unlock()

	editBehindTheBack(t, c, "ws-7", 4321)
	f.convergedTo(c, "after the edit in one shard", 30*time.Second)
	f.waitFor("audits by the digest again", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.AuditByDigest && st.DigestMisses == 1
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	drifts := f.snapsOf(ReasonDrift)
	if len(drifts) != 1 || drifts[0].UsedDelta != 4321 || drifts[0].Changed != 1 {
		t.Errorf("drift re-reads %v, want one of +4,321 credits in 1 workspace", reasons(f.snaps))
	}
	if s, _ := f.ledger.Summary("ws-7"); s.Used != redisCounters(t, c, time.Now()).Used["ws-7"] {
		t.Errorf("ws-7 shows %d, Redis holds %d", s.Used, redisCounters(t, c, time.Now()).Used["ws-7"])
	}
}

// TestAuditWithoutTheDigestStillConverges: a producer that does not keep the
// digest (an older one, the README's examples before the digest) makes the
// digest disagree with the counters: the audit says so (AuditByDigest false),
// falls back to reading the counters, and every difference is still healed.
func TestAuditWithoutTheDigestStillConverges(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	trackAll(t, pub, usage("alpha", "web", "/responses", 50), usage("beta", "", "/responses", 70))
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 100 * time.Millisecond, StatsEvery: 50 * time.Millisecond})
	f.waitFor("audits by the digest", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.AuditByDigest && st.DigestAudits >= 1
	})
	// An old producer: counters and entry in one MULTI, no digest.
	p := model.MonthlyUTC.At(time.Now()).Key
	k := Keys{}
	for range 3 {
		if _, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.HIncrBy(ctx, k.Used(p), "gamma", 11)
			pipe.HIncrBy(ctx, k.UsedBy(p), model.UsedByField("gamma", "", "/responses"), 11)
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.Stream(), Values: []any{
				"v", "1", "ts", strconv.FormatInt(time.Now().UnixMilli(), 10), "ws", "gamma", "endpoint", "/responses", "credits", "11", "status", "200"}})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	f.waitFor("the audit to fall back to the counters", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && !st.AuditByDigest && st.DigestMisses >= 1
	})
	f.convergedTo(c, "after the old producer's writes", 30*time.Second)
	// Behind the back, without digest or entry: only reading the counters finds it.
	if err := c.HIncrBy(ctx, k.Used(p), "alpha", 900).Err(); err != nil {
		t.Fatal(err)
	}
	f.convergedTo(c, "after an edit of the counters alone", 30*time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, _ := f.ledger.Summary("gamma"); s.Used != 33 {
		t.Errorf("gamma shows %d, the old producer wrote 33", s.Used)
	}
	if s, _ := f.ledger.Summary("alpha"); s.Used != 950 {
		t.Errorf("alpha shows %d, Redis holds 950", s.Used)
	}
	var delta int64
	for _, s := range f.snapsOf(ReasonDrift) {
		delta += s.UsedDelta
	}
	if delta != 900 {
		t.Errorf("drift re-reads changed used by %d, want +900 (the old producer's writes agree with the stream): %v", delta, reasons(f.snaps))
	}
}

// TestDigestAuditSlicesFindWritesThatBypassTheDigest: a writer that changes a
// counter or a setting with neither its entry nor the digest is invisible to
// the digest; the slices each audit reads back (HSCAN, going on where the last
// stopped) find it within a round, with no full read on the cadence, and the
// audit then falls back to reading the counters (the digest no longer sums
// them).
func TestDigestAuditSlicesFindWritesThatBypassTheDigest(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	store := NewSettingsStore(c, StoreOptions{})
	var evs []model.Event
	for i := range 1000 {
		evs = append(evs, usage("ws-"+strconv.Itoa(i), "", "/responses", int64(1+i%7)))
	}
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []string{"ws-3", "ws-500"} {
		if err := store.SetWorkspace(ctx, ws, model.Settings{Allocation: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 20 * time.Millisecond, StatsEvery: 20 * time.Millisecond, AuditSlice: 50, fullEvery: 1 << 40})
	f.waitFor("audits by the digest", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.AuditByDigest && st.DigestAudits >= 1
	})
	p := model.MonthlyUTC.At(time.Now()).Key
	if err := c.HSet(ctx, Keys{}.Settings(), "ws-500", `{"allocation":7000}`).Err(); err != nil {
		t.Fatal(err)
	}
	f.waitFor("ws-500's allocation from the hash", 30*time.Second, func(f *follower) bool {
		s, _ := f.ledger.Summary("ws-500")
		return s.Settings.Allocation == 7000
	})
	if err := c.HIncrBy(ctx, Keys{}.Used(p), "ws-777", 600).Err(); err != nil {
		t.Fatal(err)
	}
	f.convergedTo(c, "after a counter written alone", 30*time.Second)
	f.waitFor("the audit to fall back to the counters", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && !st.AuditByDigest
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.lastStats()
	if st.DigestMisses != 2 {
		t.Errorf("%d audits by the digest found a difference, want 2 (the setting, the counter)", st.DigestMisses)
	}
	if s, _ := f.ledger.Summary("ws-777"); s.Used != int64(1+777%7)+600 {
		t.Errorf("ws-777 shows %d, Redis holds %d", s.Used, 1+777%7+600)
	}
	var delta int64
	for _, s := range f.snapsOf(ReasonDrift) {
		delta += s.UsedDelta
	}
	if delta != 600 {
		t.Errorf("drift re-reads changed used by %d, want +600: %v", delta, reasons(f.snaps))
	}
}

// TestParseDigestTrustsOnlyWhatProducersWrite: a digest hash holding anything
// a producer does not write (another field, a shard out of range, a value that
// is no integer) is not a digest: the audit reads the counters instead.
func TestParseDigestTrustsOnlyWhatProducersWrite(t *testing.T) {
	good := map[string]string{"u:0": "5", "r:1023": "7", "x:17": "2", "u:17": "-3"}
	d, ok := parseDigest(good)
	if !ok || d.used[0] != 5 || d.recharged[1023] != 7 || d.refused[17] != 2 || d.used[17] != -3 {
		t.Fatalf("a producer's digest read as %v (ok %v)", good, ok)
	}
	for _, bad := range []map[string]string{
		{"u:1024": "1"}, {"u:-1": "1"}, {"u:x": "1"}, {"q:3": "1"}, {"u3": "1"},
		{"u:3": "1.5"}, {"u:3": ""}, {"u:3": "99999999999999999999"}, {"u:03 ": "1"},
		// the shard spelt otherwise than strconv.Itoa: a second field for shard 3
		{"u:03": "1"}, {"u:+3": "1"}, {"u:3": "1", "u:003": "1"}, {"u:-0": "1"},
	} {
		if _, ok := parseDigest(bad); ok {
			t.Errorf("%q read as a digest", bad)
		}
	}
}

// TestDigestAuditFindsDeletedCounters: a DEL of the used hash, an HDEL of
// one workspace's field of it, or a DEL of the recharged hash leaves the
// digest as it was and no slice holds a deleted field, so the audits by the
// digest saw nothing until the full read on the safety net's cadence (5
// minutes at the default) while check already read the counters. The count
// of fields (HLEN, in the audit's MULTI) finds it at the next audit.
func TestDigestAuditFindsDeletedCounters(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	pub := NewPublisher(c, PublisherOptions{})
	var evs []model.Event
	for i := range 200 {
		evs = append(evs, usage("ws-"+strconv.Itoa(i), "", "/responses", int64(1+i%7)))
	}
	evs = append(evs, model.Event{Kind: model.KindRecharge, Workspace: "ws-3", Credits: 500})
	if err := pub.TrackBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	f := startFollower(t, c, SubscriberOptions{AuditEvery: 20 * time.Millisecond, StatsEvery: 20 * time.Millisecond, AuditSlice: 10, fullEvery: 1 << 40})
	f.waitFor("audits by the digest", 30*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.AuditByDigest && st.DigestAudits >= 1
	})
	p := model.MonthlyUTC.At(time.Now()).Key
	for _, step := range []struct {
		what string
		del  func() error
	}{
		{"HDEL of ws-150's used field", func() error { return c.HDel(ctx, Keys{}.Used(p), "ws-150").Err() }},
		{"DEL of the recharged hash", func() error { return c.Del(ctx, Keys{}.Recharged(p)).Err() }},
		{"DEL of the used hash", func() error { return c.Del(ctx, Keys{}.Used(p)).Err() }},
	} {
		if err := step.del(); err != nil {
			t.Fatal(err)
		}
		f.convergedTo(c, "after the "+step.what, 30*time.Second)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, _ := f.ledger.Summary("ws-3"); s.Used != 0 || s.Recharged != 0 {
		t.Errorf("ws-3 shows used %d, recharged %d; Redis holds neither", s.Used, s.Recharged)
	}
}
