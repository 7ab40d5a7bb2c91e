package cmd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestAPeriodChangedMidPeriodIsJudgedOnItsNewCounters: `budget period
// --start-day N` with usage events in the period moves every surface to the
// new period's key, whose counters are empty. check said UNKNOWN ("the
// stream holds usage events of this period … usage is unknown") while the
// dashboard, /metrics and budget show said ok at 0 used. One judgement: the
// counters of the new period key are the truth (README, "Billing periods");
// events written before the change went to the old rule's hashes and are no
// sign of missing counters. Every surface says 0 used, ok. Real redis-server;
// the first rule is model.MidPeriod's, the second one whose period now has
// another key.
func TestAPeriodChangedMidPeriodIsJudgedOnItsNewCounters(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	cfg := model.MidPeriod(now)
	if err := f.store.SetPeriod(f.ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	f.allocate(t, 1000, "acme")
	f.track(t, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 300, Status: 200})
	var next model.PeriodConfig
	for day := 1; day <= 28 && next.StartDay == 0; day++ {
		c := model.PeriodConfig{StartDay: day}
		if r, err := c.Rule(); err == nil && r.At(now).Key != rule.At(now).Key {
			next = c
		}
	}
	if next.StartDay == 0 {
		t.Fatalf("no start day gives a period key other than %s", rule.At(now).Key)
	}
	if err := f.store.SetPeriod(f.ctx, next); err != nil {
		t.Fatal(err)
	}
	v := readSurfaces(t, f.srv, nil, []string{"acme"})
	line := strings.SplitN(v.checkText, "\n", 2)[0]
	if v.checkCode != 0 || !strings.HasPrefix(line, "MAVTOP OK - ") || !strings.Contains(line, "'acme_used'=0;") {
		t.Errorf("check: exit %d, want 0, OK at 0 used:\n%s", v.checkCode, v.checkText)
	}
	v.jsonRows(t, "acme", func(surface string, row surfaceRow) {
		if string(row.Used) != "0" || row.Level != "ok" || row.Unreadable != "" {
			t.Errorf("%s: used %s, level %q, unreadable %q; want 0, ok", surface, row.Used, row.Level, row.Unreadable)
		}
	})
	if got := seriesOf(t, v.metrics, "mavtop_workspace_level")["acme"]; got != float64(model.LevelOK) {
		t.Errorf("/metrics: workspace_level %v, want %d (ok)", got, model.LevelOK)
	}
	if row := rowOf(v.screen, "acme"); !strings.Contains(row, "ok") || strings.Contains(row, "unkn") {
		t.Errorf("dashboard: acme's row %q, want ok at 0 used", row)
	}
}

// TestAPeriodRuleWrittenToTheHashAloneIsJudgedOnItsNewCounters: the billing
// period's rule written to the settings hash alone (HSET #period, no stream
// entry) while a dashboard runs, after usage under the calendar month: the
// dashboard that watched it re-reads the new period's counters (empty: 0
// used, ok), and check said UNKNOWN ("the stream holds usage events of this
// period … usage is unknown, not 0"), exit 3, as no #period entry dated the
// change (issue 11). The events were counted under the rule before: the next
// period's hash, which no writer under the new rule has reached, holds
// them. The watching dashboard, a fresh start and check say 0 used, ok; and
// with those counters deleted as well, check still says they are missing.
func TestAPeriodRuleWrittenToTheHashAloneIsJudgedOnItsNewCounters(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	var next model.PeriodConfig // a rule whose period now began last month
	for day := 28; day > 1 && next.StartDay == 0; day-- {
		c := model.PeriodConfig{StartDay: day}
		if r, err := c.Rule(); err == nil && r.At(now).Key < model.MonthlyUTC.At(now).Key {
			next = c
		}
	}
	if next.StartDay == 0 {
		t.Skipf("on day %d no start day moves the period key back", now.UTC().Day())
	}
	rule, _ := next.Rule()
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	live := startHub(ctx, feed.NewSubscriber(f.c, feed.SubscriberOptions{AuditEvery: 100 * time.Millisecond}), nil, nil)
	f.allocate(t, 1000, "pw")
	f.track(t, model.Event{Workspace: "pw", Endpoint: "/responses", Credits: 10, Status: 200})
	waitUntil(t, 10*time.Second, "the live hub applied the event", func() bool {
		ok := false
		live.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l == nil {
				return
			}
			s, known := l.Summary("pw")
			ok = known && s.Used == 10
		})
		return ok
	})
	f.hset(t, feed.Keys{}.Settings(), feed.PeriodSettingsField, fmt.Sprintf(`{"start_day":%d}`, next.StartDay))
	var liveLevel model.Level
	var liveUsed int64
	waitUntil(t, 20*time.Second, "the live hub re-read the new period", func() bool {
		ok := false
		live.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) {
			if l == nil || l.Period().Key != rule.At(now).Key {
				return
			}
			s, _ := l.Summary("pw")
			v, _ := l.Verdict("pw")
			liveLevel, liveUsed, ok = v.Level, s.Used, true
		})
		return ok
	})
	if liveLevel != model.LevelOK || liveUsed != 0 {
		t.Errorf("the watching dashboard: pw %v at %d used, want ok at 0", liveLevel, liveUsed)
	}
	v := readSurfaces(t, f.srv, nil, []string{"pw"})
	line := strings.SplitN(v.checkText, "\n", 2)[0]
	if v.checkCode != 0 || !strings.HasPrefix(line, "MAVTOP OK - ") || !strings.Contains(line, "'pw_used'=0;") {
		t.Errorf("check: exit %d, want 0, OK at 0 used as the dashboard:\n%s", v.checkCode, v.checkText)
	}
	v.jsonRows(t, "pw", func(surface string, row surfaceRow) {
		if string(row.Used) != "0" || row.Level != "ok" || row.Unreadable != "" {
			t.Errorf("%s: used %s, level %q, unreadable %q; want 0, ok", surface, row.Used, row.Level, row.Unreadable)
		}
	})
	if row := rowOf(v.screen, "pw"); !strings.Contains(row, "ok") || strings.Contains(row, "unkn") {
		t.Errorf("a fresh dashboard: pw's row %q, want ok at 0 used", row)
	}
	// the safety net stays: with no counter anywhere for the event, this
	// period's are missing, not 0
	if err := f.c.Del(f.ctx, feed.Keys{}.Used(model.MonthlyUTC.At(now).Key)).Err(); err != nil {
		t.Fatal(err)
	}
	if out, _, code := runMavtop(t, "check", "--redis="+f.srv.URL); code != 3 || !strings.Contains(out, "usage is unknown, not 0") {
		t.Errorf("check with every counter of the event deleted: exit %d, want 3, counters missing\n%s", code, out)
	}
}
