package feed

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
)

// TestIDsAheadEndWhenTheClockPassesThem: an entry id 3 s ahead of the clock
// is reported ahead (the header's "ids 3 s ahead of clock") until the clock
// passes it, with no entry after it: it was judged at the batch only, so a
// stream quiet after it said "ahead" for good. LastEntryAt is when it was
// read, never the future id's time.
func TestIDsAheadEndWhenTheClockPassesThem(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	// no audit on a cadence: its re-read also ends "ahead", 10 s later
	f := startFollower(t, c, SubscriberOptions{StatsEvery: 50 * time.Millisecond, AuditEvery: -1})
	f.waitFor("the start snapshot", 10*time.Second, func(f *follower) bool { return f.ledger != nil })
	at := time.Now().Add(3 * time.Second).UnixMilli()
	if err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: Keys{}.Stream(), ID: strconv.FormatInt(at, 10) + "-0", Values: []any{
		"v", "1", "ts", strconv.FormatInt(at, 10), "ws", "alpha", "endpoint", "/responses", "credits", "3", "status", "200"}}).Err(); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the id reported ahead", 10*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.Ahead > 0
	})
	if st := f.lastStats(); st.LastEntryAt.IsZero() || st.LastEntryAt.After(time.Now()) || st.LastEntryAt.UnixMilli() >= at-time.Second.Milliseconds() {
		t.Fatalf("last entry at %v; read before %v, its id %v", st.LastEntryAt, time.Now(), time.UnixMilli(at))
	}
	f.waitFor("nothing ahead once the clock passed the id", 15*time.Second, func(f *follower) bool {
		st := f.lastStats()
		return st != nil && st.Ahead == 0 && st.At.UnixMilli() > at
	})
}
