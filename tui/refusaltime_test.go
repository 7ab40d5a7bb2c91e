package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/feed"
	"mavtop/model"
)

// TestA402RowShowsRedisClockNotTheProducers (issue 11): two 402s Redis took
// 10 and 20 s ago (their stream ids), from producers whose clocks run 2 h
// ahead and 3 h behind. The 402 log's time column, the row opened in full
// and the detail pane's "Recent 402s" show when they happened as mavtop can
// tell (model.Refusal.At: the id's time, 11:59:50 and 11:59:40), not the
// producers' ts (13:59:50, in the future, and 08:59:40, "3 h ago").
func TestA402RowShowsRedisClockNotTheProducers(t *testing.T) {
	m, hub := newApp(t, 200, 50, Options{})
	var evs []model.Event
	for i, skew := range []time.Duration{-3 * time.Hour, 2 * time.Hour} {
		id := testNow.Add(time.Duration(i-2) * 10 * time.Second) // 11:59:40, then 11:59:50
		evs = append(evs, model.Event{ID: fmt.Sprintf("%d-0", id.UnixMilli()), TS: id.Add(skew).UnixMilli(),
			Workspace: "acme", Project: "web", Endpoint: "/focus-groups", Status: 402, Code: model.CodeCreditsExhausted,
			Msg: "You have run out of credits.", Req: fmt.Sprintf("req_skew%d", i)})
	}
	hub.Handle(&feed.BatchMsg{Gen: 1, Events: evs})
	m = pump(t, m)
	want := []string{"11:59:40", "11:59:50"}
	wrong := []string{"08:59:40", "13:59:50"} // the producers' ts
	check := func(where, v string, want, wrong []string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(v, w) {
				t.Errorf("%s: no %s (the stream id's time):\n%s", where, w, v)
			}
		}
		for _, w := range wrong {
			if strings.Contains(v, w) {
				t.Errorf("%s: shows %s, the producer's ts:\n%s", where, w, v)
			}
		}
	}
	check("402 log", ansi.Strip(m.log.View()), want, wrong)

	m = update(t, m, press("l"), press("enter")) // the newest (2 h ahead) in full
	if !m.log.Opened() {
		t.Fatal("enter did not open the selected 402")
	}
	check("402 opened", ansi.Strip(m.log.View()), want[1:], wrong[1:])

	d := detailOf(testCommon(), m.feed.Ledger, "acme", 200, 50)
	d.height = 100 // every line, not the pane's window
	check("detail pane", ansi.Strip(d.View()), want, wrong)
}
