package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/feed"
	"mavtop/model"
)

// TestHeaderRateReadsASlowStream: the demo writes an event every few
// seconds; the header read "0 ev/s" (the last second's count, rounded), so
// below 10 events/s the rate is the count over the last minute: one event
// every 3 s reads "20 ev/min", five every 2 s "2.5 ev/s"; from 10/s it is the
// last second's; a subscriber whose count starts again (a restart) starts
// the window again.
func TestHeaderRateReadsASlowStream(t *testing.T) {
	start := testNow.Add(-time.Hour)
	run := func(h *Header, from, to int, events func(sec int) int64) {
		for sec := from; sec <= to; sec++ {
			perSec := float64(events(sec))
			if sec > 0 {
				perSec -= float64(events(sec - 1))
			}
			h.noteStats(&feed.StatsMsg{At: start.Add(time.Duration(sec) * time.Second), Events: events(sec), EventsPerSec: perSec, LagKnown: true})
		}
	}
	rate := func(h *Header) string {
		for _, part := range strings.Split(ansi.Strip(h.View()), " · ") {
			if strings.Contains(part, " ev/") {
				return strings.TrimSpace(part)
			}
		}
		return ""
	}
	for _, c := range []struct {
		name   string
		events func(sec int) int64
		want   string
	}{
		{"one every 3 s", func(sec int) int64 { return int64(sec/3 + 1) }, "20 ev/min"},
		{"five every 2 s", func(sec int) int64 { return int64(sec/2*5 + 5) }, "2.5 ev/s"},
		{"one a minute", func(sec int) int64 { return int64(sec/60 + 1) }, "1 ev/min"},
		{"250 a second", func(sec int) int64 { return int64(250 * (sec + 1)) }, "250 ev/s"},
	} {
		h := NewHeader(testCommon(), false)
		h.SetWidth(200)
		h.conn = feed.ConnMsg{State: feed.Connected}
		run(&h, 0, 70, c.events)
		if got := rate(&h); got != c.want {
			t.Errorf("%s: header rate %q, want %q (%s)", c.name, got, c.want, ansi.Strip(h.View()))
		}
	}
	// a restart: the count starts again at 3, the rate is the new second's
	// until the new samples span 2 s, then theirs (one every 3 s: 20 ev/min
	// again once a minute of them is in)
	h := NewHeader(testCommon(), false)
	h.SetWidth(200)
	h.conn = feed.ConnMsg{State: feed.Connected}
	run(&h, 0, 70, func(sec int) int64 { return int64(sec*100 + 100) })
	run(&h, 71, 200, func(sec int) int64 { return int64((sec-71)/3 + 3) })
	if got := rate(&h); got != "20 ev/min" {
		t.Errorf("after a restart: header rate %q, want 20 ev/min", got)
	}
}

// TestDemoHeaderSaysWhatTheDataIs: the demo's header says in plain words
// that the data is made up and how to watch one's own, in full where the line
// holds it, shorter at 80 columns beside what fires and the rate, never cut
// ("your Redis: --redis URL" read as a Redis of that name, and pushed the
// rate off at 80 columns once alerts fired).
func TestDemoHeaderSaysWhatTheDataIs(t *testing.T) {
	for _, c := range []struct {
		w    int
		want string
	}{
		{80, "--redis URL for yours"},
		{100, "--redis URL for yours"},
		{200, "demo data · to watch your own Redis: mavtop --redis URL"},
	} {
		h := NewHeader(testCommon(), true)
		h.SetWidth(c.w)
		h.conn = feed.ConnMsg{State: feed.Connected}
		for _, ws := range []string{"acme", "acme", "acme", "globex", "initech", "hooli", "umbrella"} {
			h.firing.Add(ws, model.LevelExhausted)
		}
		h.noteStats(&feed.StatsMsg{At: testNow, Events: 40, EventsPerSec: 0, LagKnown: true})
		h.noteStats(&feed.StatsMsg{At: testNow.Add(20 * time.Second), Events: 50, EventsPerSec: 1, LagKnown: true})
		s := ansi.Strip(h.View())
		if !strings.Contains(s, c.want) || !strings.Contains(s, "30 ev/min") || !strings.Contains(s, "✖ 5 ") || cellWidth(s) > c.w {
			t.Errorf("%d columns: header %q lacks %q, what fires or the rate, or is wider", c.w, s, c.want)
		}
		if strings.Contains(s, "your Redis: --redis") {
			t.Errorf("%d columns: header %q reads as a Redis named --redis URL", c.w, s)
		}
	}
}

// TestHeaderKeepsItsPartsWhateverTheFigures: which parts the header keeps
// depends on its width alone: the demo's rate read "48 ev/min" then "1.2
// ev/s" and the lag "lag 12 ms" then "idle 3 s", and at some widths the rate
// or the period came and went with them.
func TestHeaderKeepsItsPartsWhateverTheFigures(t *testing.T) {
	start := testNow.Add(-time.Hour)
	kinds := func(h *Header) string {
		s := ansi.Strip(h.View())
		var k []string
		for _, part := range []string{" ev/", "days left", "lag ", "idle ", "--redis URL"} {
			if strings.Contains(s, part) {
				k = append(k, part)
			}
		}
		return strings.Join(k, "|")
	}
	for w := 60; w <= 200; w++ {
		var seen []string
		for _, c := range []struct {
			every time.Duration // one event every
			lag   time.Duration
		}{{3 * time.Second, 12 * time.Millisecond}, {100 * time.Millisecond, 300 * time.Millisecond}, {time.Second / 3, 0}} {
			h := NewHeader(testCommon(), true)
			h.SetWidth(w)
			h.conn.State = feed.Connected
			h.period.Key = "2026-11"
			h.period.End = testNow.Add(14 * 24 * time.Hour)
			for sec := 0; sec <= 70; sec++ {
				n := int64(time.Duration(sec) * time.Second / c.every)
				h.noteStats(&feed.StatsMsg{At: start.Add(time.Duration(sec) * time.Second), Events: n + 1, EventsPerSec: float64(time.Second / c.every), LagKnown: true, Lag: c.lag})
			}
			seen = append(seen, kinds(&h))
		}
		if seen[0] != seen[1] || seen[1] != seen[2] {
			t.Errorf("width %d: the header keeps %q as the figures change", w, seen)
		}
	}
}

// TestHeaderRateHasOneFormAtOnePerSecond: a stream a little under one event a
// second (the demo's) read "60 ev/min" at one frame and "1.0 ev/s" at the
// next; a rate that rounds to 60 a minute is said per second.
func TestHeaderRateHasOneFormAtOnePerSecond(t *testing.T) {
	start := testNow.Add(-time.Hour)
	for _, c := range []struct {
		at     time.Duration
		events int64
		want   string
	}{
		{60300 * time.Millisecond, 60, "1.0 ev/s"}, // 59.7 a minute
		{61 * time.Second, 60, "59 ev/min"},
		{60 * time.Second, 60, "1 ev/s"},
	} {
		h := NewHeader(testCommon(), false)
		h.SetWidth(200)
		h.conn = feed.ConnMsg{State: feed.Connected}
		for sec := 0; sec <= 50; sec += 10 {
			h.noteStats(&feed.StatsMsg{At: start.Add(time.Duration(sec) * time.Second), Events: int64(sec), EventsPerSec: 1, LagKnown: true})
		}
		h.noteStats(&feed.StatsMsg{At: start.Add(c.at), Events: c.events, EventsPerSec: 1, LagKnown: true})
		if got := h.rateText(); got != c.want {
			t.Errorf("%d events in %v: %q, want %q", c.events, c.at, got, c.want)
		}
	}
}

// TestHeaderRateKeepsItsUnitAtStart: the demo's header read "– ev/s", then
// "0 ev/s" (the first second's count) and "0 ev/min" two seconds later: one
// unit rule everywhere (per second from 1 event/s, per minute below), and
// "– ev/min" until two seconds of the stream are in (one second's count is no
// rate: one event every 2 s read "1 ev/s", then "30 ev/min").
func TestHeaderRateKeepsItsUnitAtStart(t *testing.T) {
	for _, c := range []struct {
		name   string
		perSec int64
		unit   string
	}{{"quiet", 0, " ev/min"}, {"one every 2 s", -2, " ev/min"}, {"3 a second", 3, " ev/s"}} {
		h := NewHeader(testCommon(), false)
		h.SetWidth(200)
		h.conn = feed.ConnMsg{State: feed.Connected}
		h.conn.State = feed.Connected
		if s := ansi.Strip(h.View()); !strings.Contains(s, "– ev/min") {
			t.Errorf("%s: before any figure the header says %q", c.name, s)
		}
		var events int64
		for ms := 0; ms <= 10_000; ms += 500 {
			per := float64(c.perSec)
			if c.perSec < 0 { // one event every -perSec seconds
				per = 0
				if ms%(int(-c.perSec)*1000) == 0 {
					events, per = events+1, 1
				}
			} else {
				events += c.perSec / 2
			}
			h.noteStats(&feed.StatsMsg{At: testNow.Add(time.Duration(ms) * time.Millisecond), Events: events, EventsPerSec: per, LagKnown: true})
			got := h.rateText()
			if ms < 2000 && got != "– ev/min" || ms >= 2000 && (!strings.HasSuffix(got, c.unit) || strings.HasPrefix(got, "–")) {
				t.Errorf("%s at %d ms: %q, want – ev/min before 2 s, a figure in%s after", c.name, ms, got, c.unit)
			}
		}
	}
}
