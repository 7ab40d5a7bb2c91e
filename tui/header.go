package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// Drift compares the API's own count (GET /usage) with what mavtop tracked.
type Drift struct {
	At      time.Time
	APIUsed int64
	Tracked int64
	Err     error
}

// RateLimit is the API's latest X-RateLimit-* reading: requests allowed and
// left in the current window (per minute, per key).
type RateLimit struct {
	// Known is false until a response carried the headers.
	Known            bool
	Limit, Remaining int
}

// APIStatus is what the header shows about the API: requests left and drift.
type APIStatus struct {
	RateLimit RateLimit
	Drift     *Drift
}

// Header is the top line: connection, throughput, lag, period, API and DEMO.
type Header struct {
	common
	demo    bool
	conn    feed.ConnMsg
	stats   feed.StatsMsg
	api     APIStatus
	period  model.Period
	gapAt   time.Time
	lastGap string
	source  string // what the counters come from, when not the stream
	// periodBad is why the stored billing-period config cannot be read
	// (feed.SnapshotMsg.PeriodUnreadable), "" when it can: the header names
	// it while the periods shown are model.PeriodFallback's
	periodBad string
	// firing is what the shared alert lifecycle has firing now, counted as
	// every surface counts it (workspaces, not thresholds): the header says
	// so at every width, as the alerts pane is not on screen below 150 columns
	firing model.FiringCount
	width  int
	// rate holds the event count at most every rateEvery over the last
	// rateWindow: the base of the header's rate when the stream is slow
	rate [rateSlots]rateSample
	// rateN is how many of rate hold samples, oldest first
	rateN int
}

// The header's event rate is the last second's from 10 events/s; below, the
// second's count reads 0 or 1 ev/s for a stream written every few seconds, so
// it is the count over up to the last minute (rateWindow), sampled every
// rateEvery: "2.5 ev/s", "20 ev/min".
const (
	rateEvery  = 10 * time.Second
	rateWindow = time.Minute
	rateSlots  = int(rateWindow/rateEvery) + 1
	fastRate   = 10 // events/s from which the last second's rate is shown
)

type rateSample struct {
	at     time.Time
	events int64
}

// noteStats takes the subscriber's statistics and keeps a sample of its producer event
// count every rateEvery for the rate over the last minute. A count that went
// down is another subscriber's (a restart): the samples start again.
func (h *Header) noteStats(m *feed.StatsMsg) {
	h.stats = *m
	if h.rateN > 0 && m.ProducerEvents < h.rate[h.rateN-1].events {
		h.rateN = 0
	}
	if h.rateN > 0 && m.At.Sub(h.rate[h.rateN-1].at) < rateEvery {
		return
	}
	if h.rateN == rateSlots {
		copy(h.rate[:], h.rate[1:])
		h.rateN--
	}
	h.rate[h.rateN] = rateSample{m.At, m.ProducerEvents}
	h.rateN++
}

// rateText is the event rate as the header shows it: the last second's from
// fastRate events/s, else over the sampled window (the last minute once it
// is that old; rateUnknown until the window spans 2 s), in the one
// unit rule of rateIn, so a slow stream reads "20 ev/min", never "0 ev/s"
// between its events, and the start does not read "0 ev/s" then "0 ev/min".
func (h *Header) rateText() string {
	st := &h.stats
	if st.EventsPerSec >= fastRate || h.rateN == 0 {
		return rateIn(st.EventsPerSec)
	}
	base := h.rate[0]
	span := st.At.Sub(base.at)
	if span < 2*time.Second {
		// one second's count is no rate below fastRate: "1 ev/s" then
		// "30 ev/min" for one event every 2 s
		return rateUnknown
	}
	return rateIn(float64(st.ProducerEvents-base.events) / span.Seconds())
}

// rateUnknown is the rate before there is one: in the unit of a quiet
// stream, the usual start.
const rateUnknown = "– ev/min"

// rateIn is the one unit rule of the header's rate: per second from 1
// event/s ("2.5 ev/s"), per minute below ("20 ev/min", "0 ev/min"); a rate
// that rounds to 60 ev/min is 1.0 ev/s, in one form.
func rateIn(perSec float64) string {
	if perMin := compact(perSec * 60); perSec < 1 && perMin != "60" {
		return perMin + " ev/min"
	}
	return compact(perSec) + " ev/s"
}

// NewHeader returns the header; demo marks demo mode.
func NewHeader(c common, demo bool) Header { return Header{common: c, demo: demo} }

// SetWidth sets the width.
func (h *Header) SetWidth(w int) { h.width = w }

// noteSnapshot remembers a re-read that the operator should know about.
func (h *Header) noteSnapshot(m *feed.SnapshotMsg) {
	h.period = m.Snap.Period
	h.source = m.Source
	h.periodBad = m.PeriodUnreadable
	if m.Reason != feed.ReasonStart {
		h.gapAt, h.lastGap = h.at(), "re-read: "+string(m.Reason)
		if m.Reason == feed.ReasonReset && m.Restarted {
			h.lastGap = "re-read: reset / data lost"
		}
		if m.UsedDelta > 0 {
			h.lastGap += " +" + credits(m.UsedDelta)
		} else if m.UsedDelta < 0 {
			h.lastGap += " −" + credits(-m.UsedDelta)
		}
		// a recharge lost or found is named too ("drift −500 recharged"):
		// without it a DEL of the recharged hash said "drift" and no figure
		if m.RechargedDelta > 0 {
			h.lastGap += " +" + credits(m.RechargedDelta) + " recharged"
		} else if m.RechargedDelta < 0 {
			h.lastGap += " −" + credits(-m.RechargedDelta) + " recharged"
		}
	}
}

// PeriodUnreadableNote is what the header says while the stored
// billing-period config cannot be read.
const PeriodUnreadableNote = "period config unreadable"

// headerPart is one piece of the header; the least important go first when the
// line is too narrow, the rest keep their order.
type headerPart struct {
	text string
	prio int // 0 most important
	// long says the same at more length: it replaces text when the line
	// holds it beside every part kept
	long string
	// room is the cells set aside for a part whose text changes width with
	// its figure ("1.2 ev/s", "48 ev/min"), so which parts the line keeps
	// depends on its width alone and none blinks in and out as figures move
	room int
}

// keepRate is the least important priority the header gives its "? help"
// up for: every part down to the event rate.
const keepRate = 3

const (
	// rateRoom holds the widest rate: "59.9 ev/min", "12.3k ev/s"
	rateRoom = 11
	// lagRoom holds the usual lag: "lag 999 ms", "idle 59 min"
	lagRoom = 11
)

// View draws the header line, dropping the least important parts to fit.
func (h Header) View() string {
	st := h.st
	left := []string{st.Title.Render("mavtop")}
	if h.demo {
		left = append(left, st.Demo.Render(" DEMO "))
	}
	conn, connLong := h.connPart()
	parts := []headerPart{{text: conn, prio: 0, long: connLong}}
	now := h.now()
	if h.demo {
		// what a newcomer needs from the demo's header: the data is made up
		// (the DEMO badge beside it), and how to watch their own
		parts = append(parts, headerPart{text: st.Warn.Render("--redis URL for yours"), prio: 1,
			long: st.Warn.Render("demo data · to watch your own Redis: mavtop --redis URL")})
	}
	if f := h.firing; f.Alerts > 0 {
		// "✖ 3 ws firing" counts workspaces (and the feed), not alerts: one
		// workspace past 50, 75 and 90 % is one thing to look at; it says
		// "ws" where the alerts pane says "18 alerts firing"
		look := st.Level(f.Worst)
		parts = append(parts, headerPart{text: look.Style.Render(look.Symbol + " " + f.Short()), prio: 1,
			long: look.Style.Render(look.Symbol + " " + f.String())})
	}
	if h.stats.At.IsZero() {
		parts = append(parts, headerPart{text: st.Dim.Render(rateUnknown), prio: 3, room: rateRoom})
	} else {
		rate := h.rateText()
		if h.conn.State != feed.Connected {
			// nothing is read while disconnected: "0 ev/min" read as a
			// quiet stream (the lag reads "lag ?")
			rate = st.Dim.Render(rateUnknown)
		}
		lag, lagLong, prio := h.lagPart()
		parts = append(parts, headerPart{text: rate, prio: 3, room: rateRoom}, headerPart{text: lag, long: lagLong, prio: prio, room: lagRoom})
	}
	if !h.gapAt.IsZero() && now.Sub(h.gapAt) < time.Minute {
		parts = append(parts, headerPart{text: st.Warn.Render(fmt.Sprintf("%s %s", h.lastGap, h.gapAt.Local().Format("15:04:05"))), prio: 1})
	}
	if h.period.Key != "" {
		parts = append(parts, headerPart{text: fmt.Sprintf("%s: %s left", h.period.Key, humanize(h.period.Left(now))), prio: 2})
	}
	if h.source != "" {
		parts = append(parts, headerPart{text: st.Warn.Render("source: " + h.source), prio: 1})
	}
	if h.periodBad != "" {
		// the reason is in the alerts pane (model.PeriodUnreadableWords)
		parts = append(parts, headerPart{text: st.Warn.Render(PeriodUnreadableNote), prio: 1,
			long: st.Warn.Render(PeriodUnreadableNote + ": calendar months in UTC meanwhile")})
	}
	if rl := h.api.RateLimit; rl.Known {
		// X-RateLimit-Remaining of X-RateLimit-Limit: requests the API key may
		// still make before the rate limit's window resets
		parts = append(parts, headerPart{text: fmt.Sprintf("API rate limit: %d of %d req left", rl.Remaining, rl.Limit), prio: 6})
	}
	if d := h.api.Drift; d != nil {
		if d.Err != nil {
			parts = append(parts, headerPart{text: st.Warn.Render("drift: GET /usage failed"), prio: 4})
		} else {
			diff := model.AddCredits(d.APIUsed, -d.Tracked) // Tracked is a sum of counters, saturated: no wrap
			s := "drift " + credits(diff)
			if diff > 0 {
				s = "drift +" + credits(diff)
			}
			s += " (" + humanize(now.Sub(d.At)) + " ago)"
			if diff != 0 {
				s = st.Warn.Render(s)
			}
			parts = append(parts, headerPart{text: s, prio: 4})
		}
	}
	if h.stats.Malformed > 0 {
		parts = append(parts, headerPart{text: st.Warn.Render(fmt.Sprintf("%d malformed", h.stats.Malformed)), prio: 1})
	}
	right := st.Dim.Render("? help")
	head := strings.Join(left, " ") + " "
	sep := st.Dim.Render(" · ")
	// keep the most important parts that fit, then draw them in their order
	keepFor := func(budget int) (keep []bool, used int, all bool) {
		keep, all = make([]bool, len(parts)), true
		for prio := 0; prio <= 6; prio++ {
			for i, p := range parts {
				w := max(cellWidth(p.text), p.room)
				if used > 0 {
					w += cellWidth(sep)
				}
				if p.prio == prio && used+w <= budget {
					keep[i], used = true, used+w
				} else if p.prio == prio && prio <= keepRate {
					all = false
				}
			}
		}
		return keep, used, all
	}
	budget := h.width - cellWidth(head) - cellWidth(right) - 1
	keep, used, all := keepFor(budget)
	if !all {
		// the footer always says "? help": the header's goes before the
		// connection, the demo's words, what fires or the rate do
		right, budget = "", h.width-cellWidth(head)
		keep, used, _ = keepFor(budget)
	}
	for i, p := range parts { // the long form of a kept part where the line holds it
		if keep[i] && p.long != "" && used-max(cellWidth(p.text), p.room)+cellWidth(p.long) <= budget {
			used += cellWidth(p.long) - max(cellWidth(p.text), p.room)
			parts[i].text = p.long
		}
	}
	var kept []string
	for i, p := range parts {
		if keep[i] {
			kept = append(kept, p.text)
		}
	}
	body := strings.Join(kept, sep)
	line := head + body
	gap := h.width - cellWidth(line) - cellWidth(right)
	if gap < 1 {
		return fit(line, h.width)
	}
	return line + strings.Repeat(" ", gap) + right
}

// connPart says the connection's state: short, the state, for how long and
// the reason cut to fit any width from 60 columns (what an operator must not
// miss: the figures below are not moving, and why); long adds the attempt
// and the whole reason where the line holds it.
func (h Header) connPart() (short, long string) {
	st := h.st
	switch h.conn.State {
	case feed.Connected:
		s := st.Good.Render("● connected")
		return s, s
	case feed.Reconnecting:
		// how long the figures below have not moved: "for 2 min" says it
		// where the attempt count alone did not
		s := "↻ reconnecting"
		if !h.conn.Since.IsZero() {
			s += " for " + humanize(h.now().Sub(h.conn.Since))
		}
		return st.Bad.Render(s + h.connReason(shortReason)), st.Bad.Render(s + fmt.Sprintf(" (attempt %d)", h.conn.Attempt) + h.connReason(40))
	}
	s := "◌ connecting"
	if h.conn.Attempt > 0 {
		s += fmt.Sprintf(" (attempt %d)", h.conn.Attempt)
	}
	return st.Warn.Render("◌ connecting" + h.connReason(shortReason)), st.Warn.Render(s + h.connReason(40))
}

// shortReason is the cells the short connection part gives its reason.
const shortReason = 24

// streamKeyW is the most cells of a stream key the header names: the
// usual "{mavera}:usage" whole, a pasted key of any length cut, so the
// part fits beside the connection and the period at 80 columns.
const streamKeyW = 20

// connReason is ": " and the connection's last error cut to n cells, or "".
func (h Header) connReason(n int) string {
	if h.conn.Err == nil {
		return ""
	}
	return ": " + truncate(shortErr(h.conn.Err), n)
}

// lagPart says how far behind the stream the screen is: unknown while
// disconnected, "idle" when the stream is quiet (a lag figure would be stale;
// "idle >12 s" when only a bound is known, StatsMsg.IdleAtLeast),
// and an id from the future is named rather than read as no lag. prio is the
// part's priority: a lag is among the first parts to go on a narrow line, but
// ids ahead of the clock (a lag that cannot be measured) and a stream quiet
// for a minute or more (figures that are not moving) are kept before the
// period and the rate.
func (h Header) lagPart() (short, long string, prio int) {
	st := h.stats
	switch {
	case h.conn.State != feed.Connected || !st.LagKnown:
		return "lag ?", "", 5
	case st.Ahead > 0:
		s := "ids " + humanize(st.Ahead) + " ahead"
		return h.st.Warn.Render(s), h.st.Warn.Render(s + " of clock"), 1
	case st.IdleAtLeast:
		// no producer entry among the newest entries a start read (all
		// settings entries): the producer has been quiet at least this
		// long, a bound and said as one, never "lag <1 ms"
		return "idle >" + humanize(st.Idle), "", 2
	case st.Idle >= time.Minute:
		return "idle " + humanize(st.Idle), "", 2
	case st.Idle >= 2*time.Second:
		return "idle " + humanize(st.Idle), "", 5
	case st.LastEntryAt.IsZero() && st.Events == 0 && !st.At.IsZero():
		// nothing read and none written before (an empty db, a mistyped
		// --key-prefix): no lag to measure, "lag <1 ms" said all was flowing;
		// and where it looked, so a mistyped prefix shows itself (sanitised,
		// cut to streamKeyW cells), kept before the period and the rate
		if st.Stream == "" {
			return "no events", "", 5
		}
		return h.st.Warn.Render(`no events in "` + truncate(model.Sanitize(st.Stream), streamKeyW) + `"`), "", 1
	}
	return "lag " + lagText(st.Lag), "", 5
}

func lagText(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return humanize(d)
}

// shortErr keeps an error to its last, most specific part, or to the few
// words it has for itself (feed.TLSMismatchError's "this server speaks TLS:
// use rediss://", whose last part alone would say only "use rediss://").
func shortErr(err error) string {
	var short interface{ Short() string }
	if errors.As(err, &short) {
		return truncate(short.Short(), 40)
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i > 8 {
		s = s[i+2:]
	}
	return truncate(s, 40)
}
