package estimator

import (
	"fmt"
	"strings"
	"sync"
)

// Calibration compares pre-flight estimates with what jobs actually cost (the seed's
// "estimated_vs_actual" metric), per operation. It keeps running sums, so its memory
// does not grow with the number of records. The zero value is ready to use, and it is
// safe for concurrent use.
type Calibration struct {
	mu    sync.Mutex
	stats map[Operation]*calibrationStats
}

// calibrationStats are one operation's running sums.
type calibrationStats struct {
	count, rated, above int64
	estimated, actual   int64
	sumRatio, maxRatio  float64
}

// CalibrationRow is one operation's calibration.
type CalibrationRow struct {
	// Op is the operation.
	Op Operation `json:"operation"`
	// Count is the number of jobs recorded.
	Count int64 `json:"count"`
	// Rated is the number of jobs with a non-zero estimate; only they enter the ratios
	// (a free operation, estimated at 0, has no ratio).
	Rated int64 `json:"rated"`
	// MeanRatio is the mean of actual/estimate over the rated jobs (1 means spot on,
	// above 1 means the estimates run low); 0 when none is rated.
	MeanRatio float64 `json:"mean_ratio"`
	// MaxRatio is the largest actual/estimate seen; 0 when none is rated.
	MaxRatio float64 `json:"max_ratio"`
	// Above is the number of jobs whose actual cost exceeded the estimate.
	Above int64 `json:"above"`
	// AboveShare is Above / Count, from 0 to 1.
	AboveShare float64 `json:"above_share"`
	// Estimated and Actual are the credits estimated and spent in total.
	Estimated int64 `json:"estimated"`
	Actual    int64 `json:"actual"`
}

// Record adds a finished job: its operation, its pre-flight estimate and the credits
// it actually used. It refuses an unknown operation (memory stays bounded by the
// operation list) and negative credits.
func (c *Calibration) Record(op Operation, estimate, actual int64) error {
	if !op.Valid() {
		return fmt.Errorf("calibration: unknown operation %q (valid: %s)", string(op), OperationNames())
	}
	if estimate < 0 || actual < 0 {
		return fmt.Errorf("calibration: %s: estimate %d and actual %d must not be negative", op, estimate, actual)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stats == nil {
		c.stats = make(map[Operation]*calibrationStats, len(operations))
	}
	s := c.stats[op]
	if s == nil {
		s = &calibrationStats{}
		c.stats[op] = s
	}
	s.count++
	s.estimated += estimate
	s.actual += actual
	if actual > estimate {
		s.above++
	}
	if estimate > 0 {
		ratio := float64(actual) / float64(estimate)
		s.rated++
		s.sumRatio += ratio
		s.maxRatio = max(s.maxRatio, ratio)
	}
	return nil
}

// Report returns one row per operation recorded, in Operations order.
func (c *Calibration) Report() []CalibrationRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	var rows []CalibrationRow
	for _, op := range operations {
		s := c.stats[op]
		if s == nil {
			continue
		}
		row := CalibrationRow{
			Op: op, Count: s.count, Rated: s.rated, MaxRatio: s.maxRatio,
			Above: s.above, AboveShare: float64(s.above) / float64(s.count),
			Estimated: s.estimated, Actual: s.actual,
		}
		if s.rated > 0 {
			row.MeanRatio = s.sumRatio / float64(s.rated)
		}
		rows = append(rows, row)
	}
	return rows
}

// Table formats the report as an aligned plain-text table, one operation a line.
func (c *Calibration) Table() string {
	return FormatCalibration(c.Report())
}

// FormatCalibration formats calibration rows as an aligned plain-text table:
//
//	operation       jobs  mean actual/est   max  above est
//	focus-group        3             1.17  1.50       67 %
func FormatCalibration(rows []CalibrationRow) string {
	if len(rows) == 0 {
		return "no estimates recorded yet\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %5s %16s %5s %10s\n", "operation", "jobs", "mean actual/est", "max", "above est")
	for _, r := range rows {
		mean, maxRatio := "–", "–"
		if r.Rated > 0 {
			mean, maxRatio = fmt.Sprintf("%.2f", r.MeanRatio), fmt.Sprintf("%.2f", r.MaxRatio)
		}
		fmt.Fprintf(&b, "%-14s %5d %16s %5s %8.0f %%\n", r.Op, r.Count, mean, maxRatio, r.AboveShare*100)
	}
	return b.String()
}
