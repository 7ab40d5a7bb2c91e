package tui

import (
	"errors"
	"fmt"
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
			h.noteStats(&feed.StatsMsg{At: start.Add(time.Duration(sec) * time.Second), Events: events(sec), ProducerEvents: events(sec), EventsPerSec: perSec, LagKnown: true})
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

// Settings entries (budget set, budget pull) are no producer's events: the
// header's slow rate counts what EventsPerSec and /metrics' rate count
// (model.FeedsFreshness). Three budget sets read "5.1 ev/min" beside a
// producer that had stopped, 300 of them "24 ev/s" while /metrics said 0
// (hostile12 #3).
func TestHeaderRateLeavesSettingsEntriesOut(t *testing.T) {
	start := testNow.Add(-time.Hour)
	h := NewHeader(testCommon(), false)
	h.SetWidth(200)
	h.conn = feed.ConnMsg{State: feed.Connected}
	for sec := 0; sec <= 70; sec++ {
		// one producer event at the start, then five settings entries a second
		h.noteStats(&feed.StatsMsg{At: start.Add(time.Duration(sec) * time.Second), Events: int64(1 + 5*sec), ProducerEvents: 1, LagKnown: true})
	}
	view := ansi.Strip(h.View())
	if !strings.Contains(view, "0 ev/min") {
		t.Errorf("settings entries alone: header %q, want 0 ev/min", view)
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
		h.noteStats(&feed.StatsMsg{At: testNow, Events: 40, ProducerEvents: 40, EventsPerSec: 0, LagKnown: true})
		h.noteStats(&feed.StatsMsg{At: testNow.Add(20 * time.Second), Events: 50, ProducerEvents: 50, EventsPerSec: 1, LagKnown: true})
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
				h.noteStats(&feed.StatsMsg{At: start.Add(time.Duration(sec) * time.Second), Events: n + 1, ProducerEvents: n + 1, EventsPerSec: float64(time.Second / c.every), LagKnown: true, Lag: c.lag})
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
			h.noteStats(&feed.StatsMsg{At: start.Add(time.Duration(sec) * time.Second), Events: int64(sec), ProducerEvents: int64(sec), EventsPerSec: 1, LagKnown: true})
		}
		h.noteStats(&feed.StatsMsg{At: start.Add(c.at), Events: c.events, ProducerEvents: c.events, EventsPerSec: 1, LagKnown: true})
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
			h.noteStats(&feed.StatsMsg{At: testNow.Add(time.Duration(ms) * time.Millisecond), Events: events, ProducerEvents: events, EventsPerSec: per, LagKnown: true})
			got := h.rateText()
			if ms < 2000 && got != "– ev/min" || ms >= 2000 && (!strings.HasSuffix(got, c.unit) || strings.HasPrefix(got, "–")) {
				t.Errorf("%s at %d ms: %q, want – ev/min before 2 s, a figure in%s after", c.name, ms, got, c.unit)
			}
		}
	}
}

// TestHeaderKeepsWhatMustNotBeMissedAtEveryWidth: at 80 columns with the
// stream's key of the wrong type the header read "mavtop ▲ 7 workspaces
// firing · – ev/min · lag ? · 2026-12…" (no word of the reconnecting, nor
// why), with any alert firing an 8-minute-quiet stream lost "idle 8 min", and
// ids an hour ahead of the clock were said at 200 columns only. Over every
// combination of the header's states and every width from 80 to 200: the
// connection's state is said (and, reconnecting, the start of its reason),
// ids ahead of the clock and a stream quiet for a minute are said, "? help"
// is shown only when every part more important than the rate is, and the
// line fits.
func TestHeaderKeepsWhatMustNotBeMissedAtEveryWidth(t *testing.T) {
	wrong := errors.New("read stream {mavera}:usage: WRONGTYPE Operation against a key holding the wrong kind of value")
	conns := []feed.ConnMsg{
		{State: feed.Connected},
		{State: feed.Reconnecting, Attempt: 12, Err: wrong, Since: testNow.Add(-3 * time.Minute)},
		{State: feed.Connecting, Attempt: 3, Err: errors.New("dial tcp 10.0.0.7:6379: connect: connection refused")},
	}
	stats := []feed.StatsMsg{
		{LagKnown: true, Lag: 12 * time.Millisecond},
		{LagKnown: true, Idle: 8 * time.Minute},
		{LagKnown: true, Ahead: 59 * time.Minute},
	}
	for _, conn := range conns {
		for _, st := range stats {
			for _, firing := range []int{0, 7} {
				for _, demo := range []bool{false, true} {
					for _, extras := range []bool{false, true} {
						for w := 80; w <= 200; w++ {
							h := NewHeader(testCommon(), demo)
							h.SetWidth(w)
							h.conn = conn
							st.At = testNow
							st.Events = 100
							h.noteStats(&st)
							h.period.Key = "2026-12"
							h.period.End = testNow.Add(30 * 24 * time.Hour)
							if firing > 0 {
								for i := range firing {
									h.firing.Add(fmt.Sprintf("ws-%d", i), model.LevelCritical)
								}
							}
							if extras {
								h.gapAt, h.lastGap = testNow, "re-read: restart −2,927"
								h.stats.Malformed = 3
								h.source = "counters"
							}
							line := ansi.Strip(h.View())
							name := fmt.Sprintf("w=%d conn=%v stats=%+v firing=%d demo=%v extras=%v: %q", w, conn.State, st, firing, demo, extras, line)
							if cw := ansi.StringWidth(line); cw > w {
								t.Fatalf("%s: %d cells", name, cw)
							}
							var must []string
							switch conn.State {
							case feed.Connected:
								must = append(must, "● connected")
							case feed.Reconnecting:
								must = append(must, "↻ reconnecting", ": WRONGTYPE")
							default:
								must = append(must, "◌ connecting", ": connection refused")
							}
							// (the demo writes its own ids: none is ever ahead, and its
							// "--redis URL for yours" ranks first at 80 columns)
							if conn.State == feed.Connected && st.Ahead > 0 && (!demo || w >= 100) {
								must = append(must, "ids 59 min ahead")
							}
							// a minute-quiet stream ranks with the period: on a line
							// already full of warnings (a re-read, malformed entries,
							// another source) it may give way below 150 columns
							if conn.State == feed.Connected && st.Idle >= time.Minute && (!extras || w >= 150) {
								must = append(must, "idle 8 min")
							}
							if firing > 0 && (!demo || w >= 120) {
								must = append(must, "firing")
							}
							for _, m := range must {
								if !strings.Contains(line, m) {
									t.Fatalf("%s: %q missing", name, m)
								}
							}
							if strings.Contains(line, "? help") && extras && !strings.Contains(line, "malformed") {
								t.Fatalf("%s: keeps ? help before a more important part", name)
							}
						}
					}
				}
			}
		}
	}
}

// TestHeaderSaysATLSServerWantsRediss: redis:// to a TLS-only server reads
// "this server speaks TLS: use rediss://" in the header, not the last part of
// the error ("use rediss://", or "EOF" before feed named it).
func TestHeaderSaysATLSServerWantsRediss(t *testing.T) {
	err := fmt.Errorf("connect to redis redis://127.0.0.1:6380/0: %w", &feed.TLSMismatchError{Addr: "127.0.0.1:6380", Was: "EOF"})
	if got := shortErr(err); got != "TLS only: use rediss://" {
		t.Errorf("shortErr = %q", got)
	}
}

// TestHeaderSaysWhichSchemeAtEveryWidth: the header cuts a reason to 24 cells
// at 80 columns, and "this server speaks TLS: use rediss://" lost what to do
// ("this server speaks TLS:…"); rediss:// to a plain server said only "context
// deadline exceeded". Both say the scheme to use whole at every width.
func TestHeaderSaysWhichSchemeAtEveryWidth(t *testing.T) {
	errs := map[string]error{
		"use rediss://": fmt.Errorf("read snapshot: %w", &feed.TLSMismatchError{Addr: "127.0.0.1:6380", Was: "EOF"}),
		"use redis://":  fmt.Errorf("read snapshot: %w", &feed.PlainServerError{Addr: "127.0.0.1:6379", Was: "context deadline exceeded"}),
	}
	for want, err := range errs {
		for _, state := range []feed.ConnState{feed.Connecting, feed.Reconnecting} {
			for w := 80; w <= 200; w++ {
				h := NewHeader(testCommon(), false)
				h.SetWidth(w)
				h.conn = feed.ConnMsg{State: state, Attempt: 4, Err: err, Since: testNow.Add(-time.Minute)}
				h.firing.Add("ws-1", model.LevelCritical)
				line := ansi.Strip(h.View())
				if !strings.Contains(line, want) {
					t.Fatalf("w=%d state=%v: %q lacks %q", w, state, line, want)
				}
			}
		}
	}
}

// TestHeaderSaysNoEventsWhereNoneWasRead: on a db holding no stream (an empty
// db, a mistyped --key-prefix) the header said "lag <1 ms" (and, before the
// feed's fix, "idle 20788 days"): nothing read is no lag.
func TestHeaderSaysNoEventsWhereNoneWasRead(t *testing.T) {
	for w := 80; w <= 200; w += 40 {
		h := NewHeader(testCommon(), false)
		h.SetWidth(w)
		h.conn = feed.ConnMsg{State: feed.Connected}
		st := feed.StatsMsg{LagKnown: true, At: testNow}
		h.noteStats(&st)
		if line := ansi.Strip(h.View()); !strings.Contains(line, "no events") || strings.Contains(line, "lag ") {
			t.Errorf("w=%d: %q", w, line)
		}
		st = feed.StatsMsg{LagKnown: true, At: testNow, Events: 3, LastEntryAt: testNow}
		h.noteStats(&st)
		if line := ansi.Strip(h.View()); !strings.Contains(line, "lag <1 ms") {
			t.Errorf("w=%d, after an entry: %q", w, line)
		}
	}
}

// TestHeaderSaysWhereItFoundNoEvents: a dashboard started with a mistyped
// --key-prefix read "no events" (and the workspaces pane "Waiting for the
// stream…") without saying where it looked. The header names the stream key,
// sanitised and cut, at every width from 80 columns, beside the period.
func TestHeaderSaysWhereItFoundNoEvents(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"{maverra}:usage", `no events in "{maverra}:usage"`},
		{"\x1b[31mred:usage", `no events in "␛[31mred:usage"`},
		{strings.Repeat("k", 60) + ":usage", `no events in "` + strings.Repeat("k", 19) + `…"`},
	} {
		for w := 80; w <= 200; w += 40 {
			h := NewHeader(testCommon(), false)
			h.SetWidth(w)
			h.period = model.MonthlyUTC.At(testNow)
			h.conn = feed.ConnMsg{State: feed.Connected}
			st := feed.StatsMsg{LagKnown: true, At: testNow, Stream: tc.key}
			h.noteStats(&st)
			line := ansi.Strip(h.View())
			if !strings.Contains(line, tc.want) || !strings.Contains(line, h.period.Key) || cellWidth(line) > w {
				t.Errorf("w=%d, key %q: %q; want %q beside the period", w, tc.key, line, tc.want)
			}
		}
	}
}

// TestHeaderSaysThePeriodConfigIsUnreadable: while the snapshot says the
// stored billing-period config cannot be read, the header says so beside the
// period (the fallback's) at every width from 80 columns, and stops once a
// snapshot says it is read again.
func TestHeaderSaysThePeriodConfigIsUnreadable(t *testing.T) {
	for w := 80; w <= 200; w += 40 {
		h := NewHeader(testCommon(), false)
		h.SetWidth(w)
		h.conn = feed.ConnMsg{State: feed.Connected}
		st := feed.StatsMsg{LagKnown: true, At: testNow, Events: 1}
		h.noteStats(&st)
		snap := &model.Snapshot{Period: model.PeriodFallback.At(testNow)}
		h.noteSnapshot(&feed.SnapshotMsg{Reason: feed.ReasonStart, Snap: snap, PeriodUnreadable: "billing period config {\"start_day\":99}: start day 99 must be between 1 and 28"})
		line := ansi.Strip(h.View())
		if !strings.Contains(line, PeriodUnreadableNote) || !strings.Contains(line, snap.Period.Key) || cellWidth(line) > w {
			t.Errorf("w=%d: %q; want %q beside the period", w, line, PeriodUnreadableNote)
		}
		h.noteSnapshot(&feed.SnapshotMsg{Reason: feed.ReasonStart, Snap: snap})
		if line := ansi.Strip(h.View()); strings.Contains(line, PeriodUnreadableNote) {
			t.Errorf("w=%d, read again: %q", w, line)
		}
	}
}

// TestHeaderNamesALostRecharge: a drift that lost a 500 recharge (a DEL of
// the recharged hash) read "re-read: drift" with no figure, only credits
// used being named; the recharged figure is named beside it.
func TestHeaderNamesALostRecharge(t *testing.T) {
	for _, tc := range []struct {
		used, recharged int64
		want            string
	}{
		{0, -500, "re-read: drift −500 recharged"},
		{120, 500, "re-read: drift +120 +500 recharged"},
		{-85, 0, "re-read: drift −85"},
	} {
		h := NewHeader(testCommon(), false)
		h.noteSnapshot(&feed.SnapshotMsg{Reason: feed.ReasonDrift, UsedDelta: tc.used, RechargedDelta: tc.recharged, Snap: &model.Snapshot{}})
		if h.lastGap != tc.want {
			t.Errorf("used %+d recharged %+d: header %q, want %q", tc.used, tc.recharged, h.lastGap, tc.want)
		}
	}
}

// TestHeaderSaysABoundAsOne (issue 11): when a start found no producer
// entry among the stream's newest entries it reads (all settings entries,
// feed.FreshSeedEntries), the header says how long the producer has been
// quiet at least, "idle >12 min", at every width from 80 columns — neither
// "idle 12 min" as if known nor "lag <1 ms" when the bound is a second old.
func TestHeaderSaysABoundAsOne(t *testing.T) {
	for _, tc := range []struct {
		idle time.Duration
		want string
	}{{12 * time.Minute, "idle >12 min"}, {time.Second, "idle >1 s"}} {
		for w := 80; w <= 200; w++ {
			h := NewHeader(testCommon(), false)
			h.SetWidth(w)
			h.period = model.MonthlyUTC.At(testNow)
			h.conn = feed.ConnMsg{State: feed.Connected}
			st := feed.StatsMsg{LagKnown: true, At: testNow, Idle: tc.idle, LastEntryAt: testNow.Add(-tc.idle), IdleAtLeast: true}
			h.noteStats(&st)
			if line := ansi.Strip(h.View()); !strings.Contains(line, tc.want) || strings.Contains(line, "lag ") || cellWidth(line) > w {
				t.Fatalf("w=%d, idle at least %v: %q; want %q", w, tc.idle, line, tc.want)
			}
		}
	}
}
