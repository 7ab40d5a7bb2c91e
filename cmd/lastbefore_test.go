package cmd

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestARowOlderThanWhatWasReadSaysSo: a workspace whose only events this
// period are older than the hour and than the stream's newest 1,000
// entries has credits used, yet every surface gave its last event as "—",
// which the README defines as "none this period". Now the dashboard's row,
// check's LAST EVENT and --json (last_event_before) say it is older than the
// oldest entry read ("> 2 h"), one time on every surface; a workspace with
// settings and nothing this period still reads "—". On a real redis-server.
func TestARowOlderThanWhatWasReadSaysSo(t *testing.T) {
	f := newFixture(t)
	keys := feed.Keys{}
	now := time.Now()
	p := model.MonthlyUTC.At(now)
	if now.Add(-3 * time.Hour).Before(p.Start) {
		t.Skip("the period began less than 3 h ago")
	}
	write := func(at time.Time, seq int, ws string, credits int64) {
		e := model.Event{TS: at.UnixMilli(), Workspace: ws, Endpoint: "/responses", Credits: credits, Status: 200}
		pipe := f.c.TxPipeline()
		pipe.XAdd(f.ctx, &redis.XAddArgs{Stream: keys.Stream(), ID: fmt.Sprintf("%d-%d", at.UnixMilli(), seq), Values: e.Fields()})
		pipe.HIncrBy(f.ctx, keys.Used(p.Key), ws, credits)
		pipe.HIncrBy(f.ctx, keys.UsedBy(p.Key), model.UsedByField(ws, "", "/responses"), credits)
		if _, err := pipe.Exec(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	write(now.Add(-3*time.Hour), 0, "old", 70)
	// 1,100 entries of another workspace after it, all over 2 h old: the
	// hour read back holds none, the newest 1,000 are busy's
	base := now.Add(-2*time.Hour - time.Minute)
	for i := range 1100 {
		write(base.Add(time.Duration(i)*time.Millisecond), 0, "busy", 1)
	}
	f.allocate(t, 1000, "quiet", "old", "busy") // their settings entries newest
	// the oldest of the newest 1,000 entries
	msgs, err := f.c.XRevRangeN(f.ctx, keys.Stream(), "+", "-", feed.RowAgeEntries).Result()
	if err != nil || len(msgs) != feed.RowAgeEntries {
		t.Fatal(len(msgs), err)
	}
	ms, _, _ := model.ParseStreamID(msgs[len(msgs)-1].ID)
	before := int64(ms)
	want := ">" + model.FormatAge(time.Since(time.UnixMilli(before)))

	dash := f.startedLedger(t)
	dash(func(l *model.Ledger) {
		s, _ := l.Summary("old")
		if s.LastTS != 0 || s.LastBefore != before {
			t.Errorf("dashboard: old's last event %d, before %d; want 0, before %d", s.LastTS, s.LastBefore, before)
		}
		if s, _ := l.Summary("quiet"); s.LastTS != 0 || s.LastBefore != 0 {
			t.Errorf("dashboard: quiet (nothing this period) last event %d, before %d; want neither", s.LastTS, s.LastBefore)
		}
		if s, _ := l.Summary("busy"); s.LastTS != base.Add(1099*time.Millisecond).UnixMilli() {
			t.Errorf("dashboard: busy's last event %d", s.LastTS)
		}
	})
	r := "--redis=" + f.srv.URL
	out, errOut, _ := runMavtop(t, "check", r)
	if row := rowOf(out, "old"); !strings.Contains(row, " "+want+" ") {
		t.Errorf("check: old's row %q lacks LAST EVENT %q\n%s%s", row, want, out, errOut)
	}
	if row := rowOf(out, "quiet"); !strings.Contains(row, " — ") {
		t.Errorf("check: quiet's row %q lacks LAST EVENT —", row)
	}
	for _, args := range [][]string{{"check", r, "--json"}, {"budget", "show", r, "--json"}} {
		out, errOut, _ := runMavtop(t, args...)
		var js struct {
			Workspaces []struct {
				Workspace       string     `json:"workspace"`
				LastEventAt     *time.Time `json:"last_event_at"`
				LastEventBefore *time.Time `json:"last_event_before"`
			} `json:"workspaces"`
		}
		if err := json.Unmarshal([]byte(out), &js); err != nil {
			t.Fatalf("%v: %q (%s): %v", args, out, errOut, err)
		}
		for _, w := range js.Workspaces {
			switch w.Workspace {
			case "old":
				if w.LastEventAt != nil || w.LastEventBefore == nil || w.LastEventBefore.UnixMilli() != before {
					t.Errorf("%v: old last_event_at %v, last_event_before %v; want null, %v", args, w.LastEventAt, w.LastEventBefore, time.UnixMilli(before).UTC())
				}
			case "quiet":
				if w.LastEventAt != nil || w.LastEventBefore != nil {
					t.Errorf("%v: quiet last_event_at %v, last_event_before %v; want neither", args, w.LastEventAt, w.LastEventBefore)
				}
			}
		}
	}
}
