package cmd

import (
	"bufio"
	"bytes"
	"strconv"
	"text/tabwriter"
	"unicode/utf8"
)

// alignedTable is the table text/tabwriter writes with minwidth 0, padding 2,
// padchar ' ' and AlignRight, for rows of the same number of cells, byte for
// byte: each column as wide as its widest cell (in runes) plus 2, each cell
// right-aligned in it, every cell followed by what a tab-terminated cell is
// (check's rows end in a tab: an empty last cell). Cells are appended to one
// buffer: at 10k workspaces a tabwriter fed by fmt.Fprintf was most of
// check's time. A cell holding a byte tabwriter reads as a control
// (tab, newline, \v, \f, its Escape) sends the whole table through
// tabwriter, so the output never differs (TestAlignedTableIsTabwriter).
type alignedTable struct {
	cols   int
	buf    []byte
	ends   []int // where each cell ends in buf
	widths []int // each column's widest cell, in runes
	odd    bool  // a cell holds a byte tabwriter interprets
	start  int   // where the open cell begins (open, close)
}

// newAlignedTable starts a table of cols columns; rows is a guess of how
// many rows it will hold.
func newAlignedTable(cols, rows int) *alignedTable {
	return &alignedTable{cols: cols, buf: make([]byte, 0, rows*cols*8), ends: make([]int, 0, rows*cols), widths: make([]int, cols)}
}

// open returns the buffer to append the next cell to; close ends that cell.
func (t *alignedTable) open() []byte {
	t.start = len(t.buf)
	return t.buf
}

// close ends the cell open began, b being the buffer with its text appended.
func (t *alignedTable) close(b []byte) {
	t.buf = b
	cell := b[t.start:]
	w := len(cell)
	for _, c := range cell {
		if c >= utf8.RuneSelf || c == '\t' || c == '\n' || c == '\v' || c == '\f' {
			w = utf8.RuneCount(cell)
			t.odd = t.odd || bytes.ContainsAny(cell, "\t\n\v\f") || bytes.IndexByte(cell, tabwriter.Escape) >= 0
			break
		}
	}
	col := len(t.ends) % t.cols
	t.widths[col] = max(t.widths[col], w)
	t.ends = append(t.ends, len(t.buf))
}

// cell adds a cell of text s.
func (t *alignedTable) cell(s string) { t.close(append(t.open(), s...)) }

// int adds a cell of n in decimal.
func (t *alignedTable) int(n int64) { t.close(strconv.AppendInt(t.open(), n, 10)) }

// writeTo writes the table, a line for each row of cols cells.
func (t *alignedTable) writeTo(w *bufio.Writer) error {
	if t.odd {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		from := 0
		for i, end := range t.ends {
			tw.Write(t.buf[from:end])
			from = end
			if (i+1)%t.cols == 0 {
				tw.Write([]byte("\t\n"))
			} else {
				tw.Write([]byte{'\t'})
			}
		}
		return tw.Flush()
	}
	var spaces [64]byte
	for i := range spaces {
		spaces[i] = ' '
	}
	pad := func(n int) {
		for n > 0 {
			k := min(n, len(spaces))
			w.Write(spaces[:k])
			n -= k
		}
	}
	from := 0
	for i, end := range t.ends {
		cell := t.buf[from:end]
		from = end
		width := len(cell)
		for _, c := range cell {
			if c >= utf8.RuneSelf {
				width = utf8.RuneCount(cell)
				break
			}
		}
		pad(t.widths[i%t.cols] + 2 - width)
		w.Write(cell)
		if (i+1)%t.cols == 0 {
			w.WriteByte('\n')
		}
	}
	return nil
}
