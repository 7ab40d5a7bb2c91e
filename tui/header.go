package tui

import (
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
	width   int
}

// NewHeader returns the header; demo marks demo mode.
func NewHeader(c common, demo bool) Header { return Header{common: c, demo: demo} }

// SetWidth sets the width.
func (h *Header) SetWidth(w int) { h.width = w }

// noteSnapshot remembers a re-read that the operator should know about.
func (h *Header) noteSnapshot(m *feed.SnapshotMsg) {
	h.period = m.Snap.Period
	h.source = m.Source
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
	}
}

// headerPart is one piece of the header; the least important go first when the
// line is too narrow, the rest keep their order.
type headerPart struct {
	text string
	prio int // 0 most important
}

// View draws the header line, dropping the least important parts to fit.
func (h Header) View() string {
	st := h.st
	left := []string{st.Title.Render("mavtop")}
	if h.demo {
		left = append(left, st.Demo.Render(" DEMO "))
	}
	parts := []headerPart{{h.connPart(), 0}}
	now := h.now()
	if h.demo {
		parts = append(parts, headerPart{st.Warn.Render("--redis URL watches yours"), 1})
	}
	if h.stats.At.IsZero() {
		parts = append(parts, headerPart{st.Dim.Render("– ev/s"), 3})
	} else {
		parts = append(parts, headerPart{compact(h.stats.EventsPerSec) + " ev/s", 3}, headerPart{h.lagPart(), 5})
	}
	if !h.gapAt.IsZero() && now.Sub(h.gapAt) < time.Minute {
		parts = append(parts, headerPart{st.Warn.Render(fmt.Sprintf("%s %s", h.lastGap, h.gapAt.Local().Format("15:04:05"))), 1})
	}
	if h.period.Key != "" {
		parts = append(parts, headerPart{fmt.Sprintf("%s: %s left", h.period.Key, humanize(h.period.Left(now))), 2})
	}
	if h.source != "" {
		parts = append(parts, headerPart{st.Warn.Render("source: " + h.source), 1})
	}
	if rl := h.api.RateLimit; rl.Known {
		// X-RateLimit-Remaining of X-RateLimit-Limit: requests the API key may
		// still make before the rate limit's window resets
		parts = append(parts, headerPart{fmt.Sprintf("API rate limit: %d of %d req left", rl.Remaining, rl.Limit), 6})
	}
	if d := h.api.Drift; d != nil {
		if d.Err != nil {
			parts = append(parts, headerPart{st.Warn.Render("drift: GET /usage failed"), 4})
		} else {
			diff := d.APIUsed - d.Tracked
			s := "drift " + credits(diff)
			if diff > 0 {
				s = "drift +" + credits(diff)
			}
			s += " (" + humanize(now.Sub(d.At)) + " ago)"
			if diff != 0 {
				s = st.Warn.Render(s)
			}
			parts = append(parts, headerPart{s, 4})
		}
	}
	if h.stats.Malformed > 0 {
		parts = append(parts, headerPart{st.Warn.Render(fmt.Sprintf("%d malformed", h.stats.Malformed)), 1})
	}
	right := st.Dim.Render("? help")
	head := strings.Join(left, " ") + " "
	sep := st.Dim.Render(" · ")
	budget := h.width - cellWidth(head) - cellWidth(right) - 1
	// keep the most important parts that fit, then draw them in their order
	keep := make([]bool, len(parts))
	used := 0
	for prio := 0; prio <= 6; prio++ {
		for i, p := range parts {
			w := cellWidth(p.text)
			if used > 0 {
				w += cellWidth(sep)
			}
			if p.prio == prio && used+w <= budget {
				keep[i], used = true, used+w
			}
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

func (h Header) connPart() string {
	st := h.st
	switch h.conn.State {
	case feed.Connected:
		return st.Good.Render("● connected")
	case feed.Reconnecting:
		s := fmt.Sprintf("↻ reconnecting (attempt %d)", h.conn.Attempt)
		if h.conn.Err != nil {
			s += ": " + shortErr(h.conn.Err)
		}
		return st.Bad.Render(s)
	}
	s := "◌ connecting"
	if h.conn.Attempt > 0 {
		s += fmt.Sprintf(" (attempt %d)", h.conn.Attempt)
	}
	if h.conn.Err != nil {
		s += ": " + shortErr(h.conn.Err)
	}
	return st.Warn.Render(s)
}

// lagPart says how far behind the stream the screen is: unknown while
// disconnected, "idle" when the stream is quiet (a lag figure would be stale),
// and an id from the future is named rather than read as no lag.
func (h Header) lagPart() string {
	st := h.stats
	switch {
	case h.conn.State != feed.Connected || !st.LagKnown:
		return "lag ?"
	case st.Ahead > 0:
		return h.st.Warn.Render("ids " + humanize(st.Ahead) + " ahead of clock")
	case st.Idle >= 2*time.Second:
		return "idle " + humanize(st.Idle)
	}
	return "lag " + lagText(st.Lag)
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

// shortErr keeps an error to its last, most specific part.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i > 8 {
		s = s[i+2:]
	}
	return truncate(s, 40)
}
