package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// pad fills s with spaces to width cells (never cuts).
func pad(s string, width int) string {
	if w := cellWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// align pads s to width on the left (right-aligned) or right.
func align(s string, width int, right bool) string {
	w := cellWidth(s)
	if w >= width {
		return truncate(s, width)
	}
	if right {
		return strings.Repeat(" ", width-w) + s
	}
	return s + strings.Repeat(" ", width-w)
}

// truncate cuts s (which may hold ANSI styles) to width cells, marking the cut.
func truncate(s string, width int) string {
	if cellWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// fit truncates every line of s to width cells.
func fit(s string, width int) string {
	if !strings.Contains(s, "\n") {
		return truncate(s, width)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = truncate(l, width)
	}
	return strings.Join(lines, "\n")
}

// shorten fits a name into width cells keeping both ends (acme-res…team-alpha):
// names that differ only at the end, as generated ids and team suffixes do,
// stay distinguishable. The end gets the larger half.
func shorten(s string, width int) string {
	w := cellWidth(s)
	if w <= width {
		return s
	}
	if width < 5 {
		return truncate(s, width)
	}
	tail := (width - 1 + 1) / 2
	head := width - 1 - tail
	return ansi.Truncate(s, head, "") + "…" + ansi.TruncateLeft(s, w-tail, "")
}

// nameWidth is the cells a workspace name gets in a terminal termW columns
// wide, the same in every pane (the gauges, the 402 log, the alerts): fixed by
// the size and never by the names on screen, so a long name reads the same
// wherever it is drawn and no column moves when a longer one arrives. 10 at
// columns up to 90, 12 at 100, 16 at 120, 32 from 200.
func nameWidth(termW int) int { return min(max((termW-40)/5, 10), 32) }

// shortName is how every pane draws a workspace (or workspace/project) name
// in w cells: sanitized, then shortened in the middle by display width, so
// names that differ only at the end stay apart.
func shortName(s string, w int) string { return shorten(model.Sanitize(s), w) }

// nameFor is name ws in room cells as every pane draws it: whole when it
// fits, else its one short form at this size, shortName(ws, nameW) with
// nameW the layout's name width. Never a form shortened to the room left:
// "umbr…arch" in a title beside "umbr…earch" in the table read as two names.
// The short form may be wider than room; the caller's fit cuts what follows.
func nameFor(ws string, room, nameW int) string {
	if s := model.Sanitize(ws); cellWidth(s) <= room {
		return s
	}
	return shortName(ws, nameW)
}

// shortNameIn shortens the first mention of workspace ws in a sentence s (an
// alert, a title) the way shortName does in a column of w cells, so the words
// after a long name stay on screen and the name reads as it does elsewhere.
func shortNameIn(s, ws string, w int) string {
	ws = model.Sanitize(ws)
	if ws == "" || cellWidth(ws) <= w {
		return s
	}
	return strings.Replace(s, ws, shortName(ws, w), 1)
}

// shortNameFit is shortNameIn for a sentence drawn in w cells: the name whole
// when the sentence fits, else in its one short form of minW cells (the
// layout's name width, as nameFor), so a banner or an alert with room names
// the workspace in full and one without keeps the words after it.
func shortNameFit(s, ws string, w, minW int) string {
	if cellWidth(s) <= w {
		return s
	}
	return shortNameIn(s, ws, minW)
}

// bannerText is an alert's text for the one-line banner of w cells: whole
// when it fits; else without its parenthesised figures ("(90,000 of 90,000
// credits)": the gauges show them), then without its consequence after the
// last ": ", then with the workspace's name in its short form (minW cells, as every pane shortens it); cut after
// a whole word only when even that does not fit. The alerts pane's rows are
// drawn the same way (the selected one is whole under them).
func bannerText(s, ws string, w, minW int) string {
	if cellWidth(s) <= w {
		return s
	}
	s = dropParens(s)
	if cellWidth(s) <= w {
		return s
	}
	// what follows the last ": " is the consequence ("requests now get 402
	// budget_exceeded"); what it is about comes before
	if i := strings.LastIndex(s, ": "); i > 0 {
		s = s[:i]
	}
	if cellWidth(s) <= w {
		return s
	}
	return truncateWords(shortNameFit(s, ws, w, minW), w)
}

// dropParens removes every " (…)" group from s, with the groups inside it
// (a reason names why in parentheses: `settings "c1/p" cannot be read
// (project budget JSON: … (keys are matched exactly))` left a stray ")");
// an unclosed one is kept.
func dropParens(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, " (")
		if i < 0 {
			break
		}
		j, depth := -1, 0
		for k := i + 1; k < len(s) && j < 0; k++ {
			switch s[k] {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					j = k
				}
			}
		}
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		s = s[j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// quoted is the API's message as every pane quotes it: sanitized, in the
// straight double quotes the messages themselves use (`project "training"`)
// and the rest of the screen does, so a line never mixes two styles.
func quoted(msg string) string { return `"` + model.Sanitize(msg) + `"` }

// truncateWords cuts a sentence (plain text: a message, an alert's summary)
// to width cells after its last whole word, marked " …", so a row never ends
// mid-word ("Budget exceeded: project \"train…") nor on a dangling comma; a
// sentence whose words would leave less than half the width is cut as
// truncate cuts it.
func truncateWords(s string, width int) string {
	if cellWidth(s) <= width {
		return s
	}
	if cut := ansi.Truncate(s, width-1, ""); strings.HasPrefix(s[len(cut):], " ") {
		// the cut falls between words: "credits_exhausted…" keeps the word
		if head := strings.TrimRight(cut, " ,;:"); cellWidth(head) >= width/2 {
			return head + "…"
		}
	}
	cut := ansi.Truncate(s, width-2, "") // room for " …"
	if !strings.HasPrefix(s[len(cut):], " ") {
		// the last word is cut: drop it
		i := strings.LastIndexByte(cut, ' ')
		cut = cut[:max(i, 0)]
	}
	if head := strings.TrimRight(cut, " ,;:"); head != "" && cellWidth(head) >= width/2 {
		return head + " …"
	}
	return truncate(s, width)
}

// cutWords is a sentence column's cell: cut after a whole word, padded.
func cutWords(s string, w int) string { return pad(truncateWords(s, w), w) }
