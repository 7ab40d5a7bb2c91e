package serve

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// vterm is a small terminal for the tests: it applies what a session sends
// (text, cursor positions, erases, colours) to a grid of cells, so a test
// reads the screen a viewer sees rather than the bytes that drew it. It knows
// only what mavtop's output uses and ignores every mode.
type vterm struct {
	mu      sync.Mutex
	w, h    int
	grid    [][]vcell
	x, y    int
	style   string
	pending []byte
}

// vcell is one column: its grapheme ("" for blank or the rest of a wide one)
// and the SGR sequences in force when it was drawn.
type vcell struct {
	g     string
	style string
	cont  bool // the rest of a wide grapheme
}

func newVterm(w, h int) *vterm {
	t := &vterm{w: w, h: h}
	t.clear()
	return t
}

func (t *vterm) clear() {
	t.grid = make([][]vcell, t.h)
	for i := range t.grid {
		t.grid[i] = make([]vcell, t.w)
	}
}

func (t *vterm) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	data := append(t.pending, p...)
	t.pending = nil
	par := ansi.NewParser()
	var state byte
	for len(data) > 0 {
		if data[0] >= 0x80 && !utf8.FullRune(data) {
			t.pending = append([]byte(nil), data...)
			break
		}
		seq, width, n, newState := ansi.DecodeSequence(data, state, par)
		if n == len(data) && newState != ansi.NormalState {
			t.pending = append([]byte(nil), data...) // an escape cut by the read
			break
		}
		state = newState
		switch {
		case width > 0:
			t.put(string(seq), width)
		case len(seq) == 1 && seq[0] == '\r':
			t.x = 0
		case len(seq) == 1 && seq[0] == '\n':
			t.lf()
		case ansi.HasCsiPrefix(seq):
			t.csi(par)
		}
		data = data[n:]
	}
	return len(p), nil
}

func (t *vterm) lf() {
	if t.y == t.h-1 {
		t.grid = append(t.grid[1:], make([]vcell, t.w))
		return
	}
	t.y++
}

func (t *vterm) put(g string, width int) {
	if t.x+width > t.w {
		t.x = 0
		t.lf()
	}
	t.grid[t.y][t.x] = vcell{g: g, style: t.style}
	for i := 1; i < width; i++ {
		t.grid[t.y][t.x+i] = vcell{style: t.style, cont: true}
	}
	t.x += width
}

func (t *vterm) csi(p *ansi.Parser) {
	cmd := ansi.Cmd(p.Command())
	if cmd.Prefix() != 0 || cmd.Intermediate() != 0 {
		return // modes
	}
	arg := func(i, def int) int {
		v, _ := p.Param(i, def)
		if v == 0 {
			return def
		}
		return v
	}
	switch cmd.Final() {
	case 'H', 'f':
		t.y, t.x = min(arg(0, 1), t.h)-1, min(arg(1, 1), t.w)-1
	case 'A':
		t.y = max(t.y-arg(0, 1), 0)
	case 'B':
		t.y = min(t.y+arg(0, 1), t.h-1)
	case 'C':
		t.x = min(t.x+arg(0, 1), t.w-1)
	case 'D':
		t.x = max(t.x-arg(0, 1), 0)
	case 'K':
		from, to := t.x, t.w
		switch v, _ := p.Param(0, 0); v {
		case 1:
			from, to = 0, t.x+1
		case 2:
			from = 0
		}
		for i := from; i < min(to, t.w); i++ {
			t.grid[t.y][i] = vcell{}
		}
	case 'J':
		switch v, _ := p.Param(0, 0); v {
		case 2, 3:
			t.clear()
		case 0:
			for i := t.x; i < t.w; i++ {
				t.grid[t.y][i] = vcell{}
			}
			for j := t.y + 1; j < t.h; j++ {
				t.grid[j] = make([]vcell, t.w)
			}
		}
	case 'm':
		ps := p.Params()
		if len(ps) == 0 || ps[0].Param(0) == 0 {
			t.style = ""
			if len(ps) <= 1 {
				return
			}
		}
		var b strings.Builder
		b.WriteString("\x1b[")
		for i, v := range ps {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(strconv.Itoa(v.Param(0)))
		}
		b.WriteByte('m')
		t.style += b.String()
	}
}

// lines is the screen's text, one string a row, trailing blanks cut.
func (t *vterm) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, t.h)
	for y, row := range t.grid {
		var b strings.Builder
		for _, c := range row {
			switch {
			case c.cont:
			case c.g == "":
				b.WriteByte(' ')
			default:
				b.WriteString(c.g)
			}
		}
		out[y] = strings.TrimRight(b.String(), " ")
	}
	return out
}

// text is the screen as one string.
func (t *vterm) text() string { return strings.Join(t.lines(), "\n") }
