package serve

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// cellWriter sits between a session's Bubble Tea renderer and its SSH
// channel and sends only the cells that changed. Bubble Tea (v1) skips the
// lines of a frame that did not change but re-sends a changed line whole:
// under steady traffic every gauge row changes a digit or two each frame, so
// a 200-column row of about 400 bytes went out to change 5 of them. Here each
// changed line is compared cell by cell (text and style) with what the viewer
// already shows, and only the changed runs are written, each after a cursor
// move; a line holding anything but text and colours (a bell, a link) is sent
// whole.
//
// It reads the renderer's frames as Bubble Tea v1's standard renderer writes
// them in the alternate screen: one Write per frame, starting with the cursor
// home, then each line either left out (an empty line: unchanged) or written
// (ending in "\r"), an erase below when the frame got shorter, and a final
// cursor position. Any other write (modes, the cursor, the alternate screen)
// passes through as it is and makes the next frame a full redraw, as does a
// resize (invalidate): the screen the viewer has is then not known.
type cellWriter struct {
	mu sync.Mutex
	w  io.Writer
	// frame is the whole frame as the renderer last sent it, line by line
	// (the renderer leaves out the lines it did not change).
	frame []string
	// shown is what the viewer's screen holds, parsed into cells; nil rows
	// are blank. Meaningless while stale.
	shown []cellLine
	spare []cell // memory for the next parsed line
	stale bool
	buf   bytes.Buffer
	pen   string // the style the viewer's terminal is drawing with ("" is none)
}

// newCellWriter writes cell-level frame updates to w.
func newCellWriter(w io.Writer) *cellWriter { return &cellWriter{w: w, stale: true} }

// invalidate makes the next frame a full redraw (after a resize the viewer's
// terminal may have reflowed or cut what it showed).
func (c *cellWriter) invalidate() {
	c.mu.Lock()
	c.stale = true
	c.mu.Unlock()
}

// Write takes one write of the renderer.
func (c *cellWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines, tail, ok := parseFlush(p, c.frame)
	if !ok {
		c.stale = true
		return c.w.Write(p)
	}
	c.frame = lines
	c.buf.Reset()
	c.render(tail)
	if _, err := c.w.Write(c.buf.Bytes()); err != nil {
		c.stale = true
		return 0, err
	}
	return len(p), nil
}

// parseFlush reads one frame write of Bubble Tea v1's standard renderer
// (alternate screen) into the whole frame, taking the lines it left out from
// prev. tail is the final cursor position it ends with. ok is false for any
// other write.
func parseFlush(p []byte, prev []string) (lines []string, tail string, ok bool) {
	s := string(p)
	body, found := strings.CutPrefix(s, ansi.CursorHomePosition)
	if !found {
		return nil, "", false
	}
	i := strings.LastIndex(body, "\x1b[")
	if i < 0 || !isCUP(body[i:]) {
		return nil, "", false
	}
	body, tail = body[:i], body[i:]
	body = strings.TrimSuffix(body, ansi.EraseScreenBelow)
	segs := strings.Split(body, "\n")
	lines = make([]string, len(segs))
	for k, seg := range segs {
		if seg == "" {
			if k < len(prev) {
				lines[k] = prev[k]
			}
			continue
		}
		seg = strings.TrimPrefix(seg, "\r") // the first frame starts with one
		seg = strings.TrimSuffix(seg, "\r")
		lines[k] = strings.TrimSuffix(seg, ansi.EraseLineRight)
	}
	return lines, tail, true
}

// isCUP reports whether s is exactly one cursor position sequence.
func isCUP(s string) bool {
	rest, ok := strings.CutPrefix(s, "\x1b[")
	if !ok {
		return false
	}
	rest, ok = strings.CutSuffix(rest, "H")
	if !ok {
		return false
	}
	for _, r := range rest {
		if (r < '0' || r > '9') && r != ';' {
			return false
		}
	}
	return true
}

// cell is one column of a line: the grapheme that starts there (empty in
// the second column of a wide one) and its style.
type cell struct {
	g     string
	style string
	cont  bool // the second (or later) column of a wide grapheme
}

// cellLine is a line as the viewer's terminal shows it.
type cellLine struct {
	raw    string
	cells  []cell
	opaque bool   // holds something other than text and colours: compared and sent whole
	end    string // the style in force after the line, when sent whole
}

// parseLine splits a rendered line into cells, appended to cells[:0] (its
// memory reused). The style of a cell is the SGR sequences in force since the
// last reset, as written.
func parseLine(s string, cells []cell) cellLine {
	l := cellLine{raw: s, cells: cells[:0]}
	p := ansi.GetParser()
	defer ansi.PutParser(p)
	var state byte
	style := ""
	for len(s) > 0 {
		if n := simpleCell(s); n > 0 { // most of a frame: decoded without the grapheme rules
			l.cells = append(l.cells, cell{g: s[:n], style: style})
			s = s[n:]
			continue
		}
		seq, width, n, newState := ansi.DecodeSequence(s, state, p)
		state = newState
		switch {
		case width > 0:
			l.cells = append(l.cells, cell{g: seq, style: style})
			for range width - 1 {
				l.cells = append(l.cells, cell{style: style, cont: true})
			}
		case ansi.HasCsiPrefix(seq) && p.Command() == 'm':
			if resets(p.Params()) {
				style = ""
				if len(p.Params()) <= 1 {
					break // a bare reset
				}
			}
			style += seq
		default:
			l.opaque = true
		}
		s = s[n:]
	}
	l.end = style
	return l
}

// simpleCell returns the length in bytes of the rune s starts with when that
// rune is a grapheme of one column on its own: printable ASCII, box drawing,
// block elements or braille (what gauges, panes and charts are drawn with),
// followed by the end of s, by ASCII (an escape included) or by another such
// rune — none of which extends a grapheme. 0 otherwise: s goes through
// ansi.DecodeSequence (the grapheme rules, 5–10× slower).
func simpleCell(s string) int {
	n := simpleRune(s)
	if n == 0 || n == len(s) || s[n] < utf8.RuneSelf || simpleRune(s[n:]) > 0 {
		return n
	}
	return 0
}

// simpleRune returns the length of the rune s starts with when it is one of
// simpleCell's, else 0.
func simpleRune(s string) int {
	if c := s[0]; c < utf8.RuneSelf {
		if c >= 0x20 && c < 0x7f {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(s)
	if (r >= 0x2500 && r <= 0x259f) || (r >= 0x2800 && r <= 0x28ff) {
		return n
	}
	return 0
}

// resets reports whether an SGR sequence starts with a reset (no parameter
// or a first parameter of 0).
func resets(ps ansi.Params) bool {
	if len(ps) == 0 {
		return true
	}
	v := ps[0].Param(0)
	return v == 0
}

// render writes what turns the shown screen into c.frame.
func (c *cellWriter) render(tail string) {
	b := &c.buf
	if c.stale {
		b.WriteString(ansi.ResetStyle + ansi.CursorHomePosition + ansi.EraseEntireScreen)
		c.pen = ""
		c.shown = c.shown[:0]
		c.stale = false
	}
	for row, raw := range c.frame {
		var old cellLine
		if row < len(c.shown) {
			old = c.shown[row]
			if old.raw == raw {
				continue
			}
		}
		nl := parseLine(raw, c.spare)
		if nl.opaque || old.opaque {
			c.setPen("")
			b.WriteString(ansi.CursorPosition(1, row+1))
			b.WriteString(ansi.EraseEntireLine)
			b.WriteString(raw)
			c.pen = nl.end
			if nl.opaque {
				c.pen = unknownPen // reset before anything else is drawn
			}
		} else {
			c.diffLine(row, old.cells, nl.cells)
		}
		for len(c.shown) <= row {
			c.shown = append(c.shown, cellLine{})
		}
		c.spare = c.shown[row].cells // the old line's memory parses the next one
		c.shown[row] = nl
	}
	if len(c.frame) < len(c.shown) {
		c.setPen("")
		b.WriteString(ansi.CursorPosition(1, len(c.frame)+1))
		b.WriteString(ansi.EraseScreenBelow)
		c.shown = c.shown[:len(c.frame)]
	}
	c.setPen("")
	b.WriteString(tail)
}

// runGap is how many equal cells may lie between two changed ones before
// they are written as two runs: a cursor move costs about as much.
const runGap = 4

// diffLine writes the runs of cells where now differs from was.
func (c *cellWriter) diffLine(row int, was, now []cell) {
	b := &c.buf
	for x := 0; x < len(now); {
		if x < len(was) && was[x] == now[x] {
			x++
			continue
		}
		start := x
		for start > 0 && now[start].cont {
			start-- // a wide grapheme is written from its first column
		}
		end, same := x+1, 0
		for ; end < len(now) && same <= runGap; end++ {
			if end < len(was) && was[end] == now[end] {
				same++
			} else {
				same = 0
			}
		}
		end -= same // the run ends at its last changed cell …
		for end < len(now) && now[end].cont {
			end++ // … and the whole of a wide grapheme
		}
		b.WriteString(ansi.CursorPosition(start+1, row+1))
		for _, cl := range now[start:end] {
			if cl.cont {
				continue
			}
			c.setPen(cl.style)
			b.WriteString(cl.g)
		}
		x = end
	}
	if len(was) > len(now) {
		c.setPen("")
		b.WriteString(ansi.CursorPosition(len(now)+1, row+1))
		b.WriteString(ansi.EraseLineRight)
	}
}

// setPen makes the terminal draw with style.
func (c *cellWriter) setPen(style string) {
	if c.pen == style {
		return
	}
	if c.pen != "" {
		c.buf.WriteString(ansi.ResetStyle)
	}
	c.buf.WriteString(style)
	c.pen = style
}

// unknownPen stands for a style the writer cannot know (after a line sent
// whole that held other sequences): the next style starts with a reset.
const unknownPen = "\x00"
