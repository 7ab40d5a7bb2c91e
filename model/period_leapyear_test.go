package model_test

import (
	"archive/zip"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// embeddedZones loads every zone of the tz database Go embeds
// ($(go env GOROOT)/lib/time/zoneinfo.zip, what `import _ "time/tzdata"` in
// cmd/root.go gives a machine with no zoneinfo of its own).
func embeddedZones(t *testing.T) []*time.Location {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Skipf("no embedded tz database: %v", err)
	}
	defer z.Close()
	var locs []*time.Location
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if loc, err := time.LoadLocationFromTZData(f.Name, b); err == nil {
			locs = append(locs, loc)
		}
	}
	return locs
}

// TestDayStartAcrossLeapYearEnds: Go's ZoneBounds puts the end of the last
// span of a leap year a day early, before the instant asked about, and
// DayStart's walk from span to span went back and looped for ever (emit hung
// with --ts 2024-12-31T12:00:00Z under Europe/Paris; 2028-12-31 next). For
// every zone Go embeds and every year 2000–2100, the start of 1 January,
// 31 December and 1 March is an instant whose local date is that day, with
// the second before it on an earlier day: the first instant of the day.
func TestDayStartAcrossLeapYearEnds(t *testing.T) {
	locs := embeddedZones(t)
	if len(locs) < 300 {
		t.Fatalf("only %d zones loaded from the embedded tz database", len(locs))
	}
	for _, loc := range locs {
		bad := 0
		for y := 2000; y <= 2100 && bad < 3; y++ {
			for _, md := range [][2]int{{1, 1}, {3, 1}, {12, 31}} {
				got := model.DayStart(y, time.Month(md[0]), md[1], loc).In(loc)
				before := got.Add(-time.Second).In(loc)
				day := time.Date(y, time.Month(md[0]), md[1], 0, 0, 0, 0, time.UTC)
				gotDay := time.Date(got.Year(), got.Month(), got.Day(), 0, 0, 0, 0, time.UTC)
				prevDay := time.Date(before.Year(), before.Month(), before.Day(), 0, 0, 0, 0, time.UTC)
				if !gotDay.Equal(day) || !prevDay.Before(day) {
					bad++
					t.Errorf("%s: DayStart(%s) = %s (second before: %s), want the first instant of that day",
						loc, day.Format("2006-01-02"), got.Format(time.RFC3339), before.Format(time.RFC3339))
				}
			}
		}
	}
}

// TestZoneBoundsEndIsAfterTheInstant: the end model.ZoneBounds gives is after
// the instant (or zero), hour by hour over the turn of leap and other years.
func TestZoneBoundsEndIsAfterTheInstant(t *testing.T) {
	for _, loc := range embeddedZones(t) {
		for _, y := range []int{2024, 2025, 2028, 2029, 2040, 2041} {
			for at := time.Date(y, 12, 30, 0, 0, 0, 0, time.UTC); at.Before(time.Date(y+1, 1, 2, 0, 0, 0, 0, time.UTC)); at = at.Add(time.Hour) {
				in := at.In(loc)
				start, end := model.ZoneBounds(in)
				if !end.IsZero() && !end.After(in) {
					t.Fatalf("%s at %s: end %s is not after it", loc, at.Format(time.RFC3339), end.UTC().Format(time.RFC3339))
				}
				if !start.IsZero() && start.After(in) {
					t.Fatalf("%s at %s: start %s is after it", loc, at.Format(time.RFC3339), start.UTC().Format(time.RFC3339))
				}
				if _, off := in.Zone(); !end.IsZero() {
					if _, offBefore := end.Add(-time.Second).Zone(); offBefore != off {
						t.Fatalf("%s at %s: the offset changes before the end %s", loc, at.Format(time.RFC3339), end.UTC().Format(time.RFC3339))
					}
				}
			}
		}
	}
}
