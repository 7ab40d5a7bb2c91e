package tui

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"mavtop/model"
)

// TestGaugeBarAtTheEdgesOfInt64 (issue 11, hostile11): the bar's fraction
// is clamped to [0, 1] and worked out in 128 bits. min(used, cap)×width
// wrapped for a cap near 2^63 (2^62 of 2^63−1 on 20 cells sliced at a
// negative index), and a negative used — the ledger wrapped by one charge
// on a counter at 2^63−8 — sliced the bar at [:-92233720368547756]: a panic
// that ended the dashboard at 200 columns.
func TestGaugeBarAtTheEdgesOfInt64(t *testing.T) {
	st := testCommon().st
	const top = math.MaxInt64
	th := []int{50, 75, 90}
	// used is the cells drawn as used (━, ╋), marked whether the last is ╳
	full := func(w int, limit bool) int { return w - b2n(limit) }
	half := func(w int, _ bool) int { return min(w/2, w-1) + 1 } // to the 50 % tick, passed
	none := func(int, bool) int { return 0 }
	one := func(int, bool) int { return 1 }
	quarter := func(w int, limit bool) int { return min(max(w/4, 1), w-b2n(limit)) }
	for _, c := range []struct {
		name             string
		used, cap, limit int64
		want             func(w int, limitMarked bool) int
	}{
		{"a wrapped used", -9223372036854775806, 100, 0, none},
		{"MinInt64 used", math.MinInt64, 100, 0, none},
		{"used at the top of 100", top, 100, 0, full},
		{"used at the top of a cap at the top", top, top, 0, full},
		{"half of a cap at the top", 1 << 62, top, 0, half},
		{"one credit of a cap at the top", 1, top, 0, one},
		{"a quarter, a limit near the top", 1 << 61, top, top - 1, quarter},
		{"used past a cap at the top", top, top - 1, top - 2, full},
	} {
		for _, w := range []int{1, 2, 7, 20, 57, 200} {
			var got string
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s, %d cells: panic %v", c.name, w, r)
					}
				}()
				got = ansi.Strip(gaugeBar(w, c.used, c.cap, c.limit, th, st.Bar, st))
			}()
			if n := utf8.RuneCountInString(got); n != w {
				t.Errorf("%s, %d cells: %d drawn: %q", c.name, w, n, got)
				continue
			}
			marked := strings.HasSuffix(got, limitMarker)
			if c.limit > 0 && !marked {
				t.Errorf("%s, %d cells: %q, want the limit's %s in the last cell", c.name, w, got, limitMarker)
			}
			used := strings.Count(got, barUsed) + strings.Count(got, tickUsed)
			if want := c.want(w, marked); used != want {
				t.Errorf("%s, %d cells: %q, %d used, want %d", c.name, w, got, used, want)
			}
		}
	}
}

func b2n(b bool) int {
	if b {
		return 1
	}
	return 0
}

// negative finds a negative figure ("-9.22E", "-9,223,…").
var negative = regexp.MustCompile(`[-−]\d`)

// TestGaugeRowsOfCountersNearTheTop: the gauges pane at 200 columns of a
// ledger whose counters are near 2^63 — a charge on a used counter at
// 2^63−8 (hostile11's repro: Redis refuses the HINCRBY, the entry is
// written), a recharged counter at the top with 2^62 used — draws every
// row, OUT with a full bar for the first, as check judges them.
func TestGaugeRowsOfCountersNearTheTop(t *testing.T) {
	const top = math.MaxInt64
	l := model.NewLedger(model.MonthlyUTC, testNow.Add(-2*time.Hour))
	l.Seed(&model.Snapshot{
		Period: model.MonthlyUTC.At(testNow), StreamID: "5-0",
		Used:      map[string]int64{"acme": top - 7, "big": 1 << 62},
		UsedBy:    map[string]int64{"acme///responses": 10},
		Recharged: map[string]int64{"big": top},
		Settings:  map[string]model.Settings{"acme": {Allocation: 100}, "big": {Allocation: 1000}},
	}, testNow.Add(-2*time.Hour))
	l.Apply(&model.Event{TS: testNow.Add(-time.Minute).UnixMilli(), Workspace: "acme", Endpoint: "/responses", Credits: 10, Status: 200})
	for _, w := range []int{200, 120, 80} {
		g := NewGauges(testCommon())
		g.SetSize(w, 10)
		var view string
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%d columns: panic %v", w, r)
				}
			}()
			g.Refresh(l)
			view = ansi.Strip(g.View())
		}()
		var acme, big string
		for _, line := range strings.Split(view, "\n") {
			switch {
			case strings.Contains(line, "acme"):
				acme = line
			case strings.Contains(line, "big"):
				big = line
			}
		}
		if !strings.Contains(acme, "✖ OUT") || strings.Contains(acme, barLeft) || negative.MatchString(acme) {
			t.Errorf("%d columns: acme %q, want OUT with a full bar and no negative figure", w, acme)
		}
		if !strings.Contains(big, "warn") || negative.MatchString(big) {
			t.Errorf("%d columns: big %q, want warn (50 %% of a cap at the top)", w, big)
		}
	}
}
