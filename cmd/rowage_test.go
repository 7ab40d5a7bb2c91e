package cmd

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestARowQuietForHoursHasOneAgeOnEverySurface (issue 11, "every workspace
// row shows the age of its newest event"): a workspace whose newest event is
// two hours old, in this billing period, read "—" on a dashboard started
// now (its hour read back held nothing of it) while check's LAST EVENT said
// "2 h" from the stream's newest 1,000 entries. A start reads those entries
// too and dates the row alike. On a real redis-server.
func TestARowQuietForHoursHasOneAgeOnEverySurface(t *testing.T) {
	t.Run("quiet", func(t *testing.T) { rowAgesAgree(t, false) })
	t.Run("slack", func(t *testing.T) { rowAgesAgree(t, true) })
}

// rowAgesAgree writes quiet's event two hours ago (and, with batch, 1,000
// entries 62 minutes ago, past which check's newest 1,000 do not reach
// quiet) and compares the rows' ages of check and a dashboard started now.
func rowAgesAgree(t *testing.T, withBatch bool) {
	now := time.Now()
	old := now.Add(-2 * time.Hour).Truncate(time.Millisecond)
	period := model.MonthlyUTC.At(now)
	if !period.Contains(old.UnixMilli()) {
		t.Skip("the billing period began less than two hours ago")
	}
	f := newFixture(t)
	k := feed.Keys{}
	// as a producer wrote it two hours ago: the entry (its id of then) and
	// its counters in one MULTI
	if _, err := f.c.TxPipelined(f.ctx, func(p redis.Pipeliner) error {
		p.XAdd(f.ctx, &redis.XAddArgs{Stream: k.Stream(), ID: strconv.FormatInt(old.UnixMilli(), 10) + "-0", Values: []any{
			"v", "1", "ts", strconv.FormatInt(old.UnixMilli(), 10), "ws", "quiet", "endpoint", "/responses", "credits", "7", "status", "200"}})
		p.HIncrBy(f.ctx, k.Used(period.Key), "quiet", 7)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// 1,000 entries 62 minutes ago: in the slack the hour's read-back reads
	// before its hour (and counts), dating nothing; check's newest 1,000
	// date batch (hostile14 #4: the start then skipped the dating)
	batch := now.Add(-62 * time.Minute).Truncate(time.Millisecond)
	if _, err := f.c.TxPipelined(f.ctx, func(p redis.Pipeliner) error {
		if !withBatch {
			return nil
		}
		for i := range 1000 {
			ms := strconv.FormatInt(batch.UnixMilli(), 10)
			p.XAdd(f.ctx, &redis.XAddArgs{Stream: k.Stream(), ID: ms + "-" + strconv.Itoa(i), Values: []any{
				"v", "1", "ts", ms, "ws", "batch", "endpoint", "/responses", "credits", "1", "status", "200"}})
		}
		p.HIncrBy(f.ctx, k.Used(period.Key), "batch", 1000)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.allocate(t, 3000, "quiet", "busy", "batch") // settings entries, written now
	f.track(t, model.Event{Workspace: "busy", Endpoint: "/responses", Credits: 5, Status: 200})

	out, _, _ := runMavtop(t, "check", "--redis="+f.srv.URL, "--json")
	var got struct {
		Workspaces []struct {
			Workspace   string     `json:"workspace"`
			Used        int64      `json:"used"`
			LastEventAt *time.Time `json:"last_event_at"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	checkAt := map[string]*time.Time{}
	for _, r := range got.Workspaces {
		checkAt[r.Workspace] = r.LastEventAt
	}
	want, ws := old, "quiet"
	if withBatch {
		want, ws = batch, "batch"
	}
	if at := checkAt[ws]; at == nil || !at.Equal(want) {
		t.Fatalf("check's last_event_at of %s %v, want %v: %s", ws, at, want, out)
	}

	f.startedLedger(t)(func(l *model.Ledger) {
		for _, ws := range []string{"quiet", "busy", "batch"} {
			sum, _ := l.Summary(ws)
			if at := checkAt[ws]; at == nil && sum.LastTS != 0 || at != nil && sum.LastTS != at.UnixMilli() {
				t.Errorf("%s: the dashboard's row dated %v, check's LAST EVENT %v: one age", ws, time.UnixMilli(sum.LastTS).UTC(), at)
			}
		}
	})
}
