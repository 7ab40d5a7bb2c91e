package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"mavtop/model"
)

// TestAlignedTableIsTabwriter: alignedTable writes what text/tabwriter
// (minwidth 0, padding 2, ' ', AlignRight) writes for the same tab-terminated
// cells, byte for byte, over random tables of cells of every width: empty,
// ASCII, runes of two and three bytes (a column is as wide as its widest cell
// in runes), and cells with bytes tabwriter interprets (a tab, a newline, \v,
// \f, its Escape), which it sends to tabwriter.
func TestAlignedTableIsTabwriter(t *testing.T) {
	pieces := []string{"", "a", "ws-000123", "12", "—", "é", "98.9 %", "unset", "\t", "\n", "\v", "\f", "\xff", "x\xffy"}
	sawOdd, sawWide := 0, 0
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 16))
		cols, rows := 1+r.IntN(9), r.IntN(30)
		odd := seed%4 == 0 // a quarter of the tables may hold control bytes
		tab := newAlignedTable(cols, rows)
		var want bytes.Buffer
		tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', tabwriter.AlignRight)
		for range rows {
			for range cols {
				var cell string
				for range r.IntN(4) {
					p := pieces[r.IntN(len(pieces))]
					if !odd && strings.ContainsAny(p, "\t\n\v\f\xff") {
						p = strings.Repeat("z", r.IntN(12))
					}
					cell += p
				}
				if strings.ContainsAny(cell, "\t\n\v\f\xff") {
					sawOdd++
				}
				if strings.ContainsAny(cell, "—é") {
					sawWide++
				}
				if r.IntN(2) == 0 {
					tab.cell(cell)
				} else {
					tab.close(append(tab.open(), cell...))
				}
				fmt.Fprintf(tw, "%s\t", cell)
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		if err := tab.writeTo(bw); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		if got.String() != want.String() {
			t.Fatalf("seed %d (%d×%d): the table\n%q\ntabwriter's\n%q", seed, rows, cols, got.String(), want.String())
		}
	}
	if sawOdd == 0 || sawWide == 0 {
		t.Fatalf("%d cells with control bytes, %d with wide runes: the fixture misses a case", sawOdd, sawWide)
	}
}

// TestCheckTextIsTheFormattedText: printCheck, which appends each figure to
// one buffered writer, writes byte for byte what check wrote with fmt and
// text/tabwriter (printCheckFmt, kept here as it was), over random rows of
// every kind a row can be: counters unreadable (with settings unreadable
// too, with recharges), no allocation, no cap, a usage limit (binding or
// not), last events now, old, stale and none, projects with a limit, with a
// budget that cannot be read, under both the workspaces' thresholds and
// fixed ones, and no row at all.
func TestCheckTextIsTheFormattedText(t *testing.T) {
	now := time.Now()
	levels := []string{"ok", "elevated", "high", "critical", "exhausted", "unknown", "unset"}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 61))
		rows := make([]wsRow, r.IntN(40))
		for i := range rows {
			row := &rows[i]
			row.Workspace = "ws-" + strconv.Itoa(r.IntN(1<<r.IntN(30)))
			row.Used, row.Refused = r.Int64N(1<<r.IntN(62)), r.Int64N(5)
			if r.IntN(3) > 0 {
				row.Allocation = r.Int64N(1 << r.IntN(40))
			}
			if r.IntN(3) == 0 {
				row.Recharged = r.Int64N(1000)
			}
			if r.IntN(4) > 0 {
				row.Cap = row.Allocation + row.Recharged
			}
			if r.IntN(3) == 0 {
				row.UsageLimit = r.Int64N(1 << 30)
			}
			row.CapKind = model.CapAllocation.String()
			if r.IntN(3) == 0 {
				row.CapKind = model.CapLimit.String()
			}
			row.Percent = []float64{0, 12.5, 89.95, 98.94, 100, 250, 1e7}[r.IntN(7)]
			row.Level, row.Check = levels[r.IntN(len(levels))], checkWords[r.IntN(4)]
			switch r.IntN(5) {
			case 0:
			case 1:
				at := now.Add(-time.Duration(r.Int64N(int64(40 * 24 * time.Hour))))
				row.LastEventAt = &at
			case 2:
				at := now.Add(-time.Duration(r.Int64N(int64(time.Second))))
				row.LastEventAt, row.Stale = &at, true
			default:
				row.Stale = r.IntN(2) == 0
			}
			if r.IntN(6) == 0 {
				row.Unreadable = `counter "used:` + row.Workspace + `" cannot be read`
				// what the model leaves unknown of an unreadable used counter
				row.unknown = model.FigUsed | model.FigRecharged | model.FigPercent | model.FigLimit | model.FigLevel
				if r.IntN(2) == 0 {
					row.Settings.Unreadable = "settings cannot be read"
				}
			}
			for range r.IntN(3) {
				pr := projectRow{Project: "p" + strconv.Itoa(r.IntN(100)), Used: r.Int64N(1 << 20), Percent: float64(r.IntN(2000)) / 10,
					Level: levels[r.IntN(len(levels))], Refused: r.Int64N(9), Check: checkWords[r.IntN(4)]}
				pr.Budget.Limit = r.Int64N(1 << 20)
				if r.IntN(5) == 0 {
					pr.Budget.Unreadable = "budget cannot be read"
				}
				row.Projects = append(row.Projects, pr)
			}
		}
		fixed := seed%2 == 1
		code := r.IntN(4)
		var got, want bytes.Buffer
		if err := printCheck(&got, rows, code, "a summary", now, fixed, 75.5, 90); err != nil {
			t.Fatal(err)
		}
		if err := printCheckFmt(&want, rows, code, "a summary", now, fixed, 75.5, 90); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("seed %d: printCheck wrote\n%s\nfmt and tabwriter wrote\n%s", seed, got.String(), want.String())
		}
	}
}

// printCheckFmt is printCheck as it was written with fmt and text/tabwriter,
// the reference TestCheckTextIsTheFormattedText holds it to.
func printCheckFmt(w io.Writer, rows []wsRow, code int, summary string, now time.Time, fixed bool, warn, crit float64) error {
	var perf []string
	for _, r := range rows {
		max := ""
		if r.Cap > 0 {
			max = fmt.Sprint(r.Cap)
		}
		used, refused := strconv.FormatInt(r.Used, 10), strconv.FormatInt(r.Refused, 10)+"c"
		if r.Unreadable != "" {
			// the plugin guidelines' "cannot be determined", not a reading
			// of 0: every figure read from the counters, as --json's null
			used, refused = "U", "U"
		}
		perf = append(perf, fmt.Sprintf("'%s_used'=%s;;;0;%s '%s_402'=%s", r.Workspace, used, max, r.Workspace, refused))
		for _, pr := range r.Projects {
			pu := strconv.FormatInt(pr.Used, 10)
			if r.Unreadable != "" {
				pu = "U"
			}
			pmax := strconv.FormatInt(pr.Budget.Limit, 10)
			if pr.Budget.Unreadable != "" {
				// its budget cannot be read: nothing judged, its credits
				// used as read (the table's USED, --json's used)
				pmax = ""
			}
			perf = append(perf, fmt.Sprintf("'%s/%s_used'=%s;;;0;%s", r.Workspace, pr.Project, pu, pmax))
		}
	}
	if len(perf) == 0 {
		// no workspace: no perfdata at all (a bare "| " is no valid
		// perfdata), and no table with a header over nothing
		_, err := fmt.Fprintf(w, "MAVTOP %s - %s\n", checkNames[code], summary)
		return err
	}
	fmt.Fprintf(w, "MAVTOP %s - %s | %s\n", checkNames[code], summary, strings.Join(perf, " "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WORKSPACE\tUSED\tALLOCATION\tPERCENT\tLEVEL\t402s\tLAST EVENT\tCHECK\t")
	for _, r := range rows {
		alloc, pct := model.Unset, "-"
		if r.Allocation > 0 {
			alloc = fmt.Sprint(r.Allocation)
			if r.Recharged > 0 {
				alloc += fmt.Sprintf("+%d", r.Recharged)
			}
		}
		if r.Cap > 0 {
			pct = model.FormatPercent(r.Percent)
		}
		if r.UsageLimit > 0 {
			of := ""
			if r.limitSetsLevel() {
				of = model.FormatPercent(r.LimitPercent) + " of "
			}
			pct += fmt.Sprintf(" (%slimit %s)", of, strconv.FormatInt(r.UsageLimit, 10))
			if r.CapKind == model.CapLimit.String() {
				pct += " binds"
			}
		}
		last := "—"
		if r.LastEventAt != nil {
			last = model.FormatAge(now.Sub(*r.LastEventAt))
			if r.Stale {
				last += " stale"
			}
		} else if r.Stale {
			last = "stale"
		}
		used, refused := strconv.FormatInt(r.Used, 10), strconv.FormatInt(r.Refused, 10)
		if r.Unreadable != "" { // as --json's null: no figure read from the counters
			used, pct, refused = "unreadable", "-", "-"
			if r.Allocation > 0 { // its recharges are not known
				alloc = fmt.Sprint(r.Allocation)
			}
			if r.Settings.Unreadable != "" { // the settings are what cannot be read
				alloc = "-"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Workspace, used, alloc, pct, r.Level, refused, last, r.Check)
		for _, pr := range r.Projects {
			pu, ppct, plevel, pref := strconv.FormatInt(pr.Used, 10), model.FormatPercent(pr.Percent), pr.Level, strconv.FormatInt(pr.Refused, 10)
			if r.Unreadable != "" {
				pu, ppct, plevel, pref = "-", "-", "unknown", "-"
			}
			lim := strconv.FormatInt(pr.Budget.Limit, 10)
			if pr.Budget.Unreadable != "" { // its budget cannot be read: no limit known
				ppct, lim = "-", "-"
			}
			fmt.Fprintf(tw, "%s/%s\t%s\t-\t%s (limit %s)\t%s\t%s\t\t%s\t\n", r.Workspace, pr.Project, pu,
				ppct, lim, plevel, pref, pr.Check)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	rule := "levels by each workspace's alert thresholds: warning from the second (high), critical from the third or when exhausted"
	if fixed {
		rule = fmt.Sprintf("fixed thresholds: warn %g%%, crit %g%%", warn, crit)
	}
	_, err := fmt.Fprintf(w, "%s; percent of the effective cap (allocation plus recharges, or the usage limit when smaller), a project's of its usage limit; a workspace's CHECK is the worst of its own and its projects'\n", rule)
	return err
}
