package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestCheckJudgesALateEventInThePeriodItsTsChose: an event written now whose
// ts lies in the period before (a producer's clock minutes slow at a
// period's start, a replayed or reconciled event) went to that period's
// counters, as the producer chose them by its ts. This period's counters are
// empty and that is the truth: check said UNKNOWN ("the stream holds usage
// events of this period … usage is unknown") since freshness dates such an
// event by its id (model.TrustedTime), while the dashboard and budget show
// said 0 used, ok. The period an event belongs to is its ts's (README,
// "Whose clock dates an event"). Real redis-server.
func TestCheckJudgesALateEventInThePeriodItsTsChose(t *testing.T) {
	srv := feedtest.StartReal(t, "the stream contract as redis-server answers it")
	c := srv.Client()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	usage.Set("acme", model.Settings{Allocation: 1000})
	late := model.Event{TS: p.Start.Add(-time.Hour).UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 100, Status: 200}
	if err := feed.NewPublisher(c, feed.PublisherOptions{}).Track(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check"}, {"check", "--json"}, {"check", "acme", "--stale", "10m"}} {
		out, errOut, code := runMavtop(t, append(args, "--redis", srv.URL)...)
		if code != 0 || strings.Contains(out, "unknown") || strings.Contains(out, "UNKNOWN") {
			t.Errorf("%v: exit %d, want 0 (this period's counters are empty: 0 used, ok)\n%s%s", args, code, out, errOut)
		}
	}
}

// TestARowsLastEventIsOfItsPeriod: a row's LAST EVENT (check's text,
// last_event_at in check --json and budget show --json) is its newest event
// of the row's billing period — the events its counters hold — as the
// dashboard's row age. An event written now whose ts lies in the period
// before went to that period's counters: check read LAST EVENT "now" for it
// (freshness dates it by its id) while the row showed 0 used and the
// dashboard's age "—". An older event of this period stays the row's last.
// Real redis-server.
func TestARowsLastEventIsOfItsPeriod(t *testing.T) {
	srv := feedtest.StartReal(t, "the stream contract as redis-server answers it")
	c := srv.Client()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	track := func(e model.Event) {
		t.Helper()
		if err := pub.Track(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range []string{"late", "both"} {
		usage.Set(ws, model.Settings{Allocation: 1000})
	}
	// both: an event of this period 30 s ago (its ts within a minute of its
	// id: trusted), then one written now with a ts in the period before
	inPeriod := time.Now().Add(-30 * time.Second).UnixMilli()
	track(model.Event{TS: inPeriod, Workspace: "both", Endpoint: "/responses", Credits: 10, Status: 200})
	track(model.Event{TS: p.Start.Add(-time.Hour).UnixMilli(), Workspace: "both", Endpoint: "/responses", Credits: 100, Status: 200})
	track(model.Event{TS: p.Start.Add(-time.Hour).UnixMilli(), Workspace: "late", Endpoint: "/responses", Credits: 100, Status: 200})

	v := readSurfaces(t, srv, nil, []string{"late", "both"})
	want := map[string]string{"late": "null", "both": `"` + time.UnixMilli(inPeriod).UTC().Format(time.RFC3339Nano) + `"`}
	for ws, at := range want {
		v.jsonRows(t, ws, func(surface string, row surfaceRow) {
			if string(row.LastEventAt) != at {
				t.Errorf("%s: %s last_event_at %s, want %s", ws, surface, row.LastEventAt, at)
			}
		})
	}
	if row := rowOf(v.checkText, "late"); !strings.Contains(row, " — ") {
		t.Errorf("late: check row %q, want LAST EVENT —", row)
	}
	if row := rowOf(v.checkText, "both"); !strings.Contains(row, " 30 s ") && !strings.Contains(row, " 31 s ") && !strings.Contains(row, " 32 s ") {
		t.Errorf("both: check row %q, want LAST EVENT 30 s (its event of this period)", row)
	}
	if row := rowOf(v.screen, "late"); !strings.HasSuffix(strings.TrimRight(row, " ┃"), "—") {
		t.Errorf("late: dashboard row %q, want age —", row)
	}
	// the feed is live all the same: --stale judges the stream's newest entry
	if out, errOut, code := runMavtop(t, "check", "--redis", srv.URL, "--stale", "10m"); code != 0 {
		t.Errorf("check --stale 10m: exit %d, want 0 (an event was written now)\n%s%s", code, out, errOut)
	}
}
