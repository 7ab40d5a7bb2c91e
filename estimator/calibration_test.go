package estimator_test

import (
	"math"
	"strings"
	"sync"
	"testing"

	"mavtop/estimator"
)

func TestCalibration(t *testing.T) {
	var c estimator.Calibration
	records := []struct {
		op               estimator.Operation
		estimate, actual int64
	}{
		{estimator.FocusGroup, 100, 90},
		{estimator.FocusGroup, 100, 110},
		{estimator.FocusGroup, 200, 300},
		{estimator.Chat, 5, 3},
		{estimator.PersonaList, 0, 0},
		{estimator.PersonaList, 0, 1},
	}
	for _, r := range records {
		if err := c.Record(r.op, r.estimate, r.actual); err != nil {
			t.Fatal(err)
		}
	}
	rows := c.Report()
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3: %+v", len(rows), rows)
	}
	// Rows come in Operations order: chat, focus-group, persona-list.
	chat, fg, list := rows[0], rows[1], rows[2]
	if chat.Op != estimator.Chat || chat.Count != 1 || chat.Rated != 1 || chat.Above != 0 || chat.AboveShare != 0 ||
		!near(chat.MeanRatio, 0.6) || !near(chat.MaxRatio, 0.6) || chat.Estimated != 5 || chat.Actual != 3 {
		t.Errorf("chat row %+v", chat)
	}
	if fg.Op != estimator.FocusGroup || fg.Count != 3 || fg.Rated != 3 || fg.Above != 2 || !near(fg.AboveShare, 2.0/3) ||
		!near(fg.MeanRatio, (0.9+1.1+1.5)/3) || !near(fg.MaxRatio, 1.5) || fg.Estimated != 400 || fg.Actual != 500 {
		t.Errorf("focus-group row %+v", fg)
	}
	if list.Op != estimator.PersonaList || list.Count != 2 || list.Rated != 0 || list.MeanRatio != 0 || list.MaxRatio != 0 ||
		list.Above != 1 || list.AboveShare != 0.5 {
		t.Errorf("persona-list row %+v", list)
	}

	want := "" +
		"operation       jobs  mean actual/est   max  above est\n" +
		"chat               1             0.60  0.60        0 %\n" +
		"focus-group        3             1.17  1.50       67 %\n" +
		"persona-list       2                –     –       50 %\n"
	if got := c.Table(); got != want {
		t.Errorf("table\n%s\nwant\n%s", got, want)
	}
	t.Logf("calibration table:\n%s", c.Table())
}

func TestCalibrationEmpty(t *testing.T) {
	var c estimator.Calibration
	if rows := c.Report(); len(rows) != 0 {
		t.Errorf("empty calibration reports %+v", rows)
	}
	if got := c.Table(); got != "no estimates recorded yet\n" {
		t.Errorf("empty table %q", got)
	}
}

func TestCalibrationRejects(t *testing.T) {
	var c estimator.Calibration
	for _, tt := range []struct {
		op               estimator.Operation
		estimate, actual int64
		want             string
	}{
		{"focus_group_small", 10, 10, `unknown operation "focus_group_small"`},
		{estimator.Video, -1, 10, "estimate -1 and actual 10 must not be negative"},
		{estimator.Video, 10, -1, "estimate 10 and actual -1 must not be negative"},
	} {
		err := c.Record(tt.op, tt.estimate, tt.actual)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Record(%q, %d, %d) = %v, want an error containing %q", tt.op, tt.estimate, tt.actual, err, tt.want)
		}
	}
	if rows := c.Report(); len(rows) != 0 {
		t.Errorf("rejected records were counted: %+v", rows)
	}
}

func TestCalibrationConcurrent(t *testing.T) {
	var c estimator.Calibration
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				_ = c.Record(estimator.Video, 150, 120)
				_ = c.Report()
			}
		})
	}
	wg.Wait()
	if rows := c.Report(); len(rows) != 1 || rows[0].Count != 8000 || rows[0].Estimated != 8000*150 {
		t.Errorf("got %+v", rows)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
