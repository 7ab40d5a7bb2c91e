package feedtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// EdgeEnv names the environment variable that runs a package's tests as if
// now were at the edge of a billing period: a test that reads the wall clock
// can be tried in a period's first or last minutes at any hour, instead of
// waiting for CI to run at 00:05 on the 1st or 23:55 on the last day.
//
//   - "start:5m": the default period (model.MonthlyUTC, what every reader
//     and producer in the process uses when Redis stores no rule) starts 5
//     minutes before the tests start, so the hour before now lies mostly in
//     the previous period;
//   - "end:15m": it ends 15 minutes after they start.
//
// The duration is whole seconds. The rule moved is a start day in a fixed
// zone whose midnight falls at that instant (time.FixedZone: the edge can be
// any second, which no IANA zone gives). AtEdge resolves the variable to
// "rule:<start day>:<zone offset in seconds>", which child processes the
// tests start (cmd's MAVTOP_AS_MAIN) inherit, so they cut periods at the same
// instant. A rule stored in Redis (budget period) is not moved: tests that
// store one do not depend on where now falls in the default period.
const EdgeEnv = "MAVTOP_TEST_PERIOD_EDGE"

// AtEdge moves model.MonthlyUTC as EdgeEnv says (nothing when it is unset)
// and returns what it did, for the caller to print; a value it cannot use is
// an error. Call it first in a package's TestMain, before any test reads
// the default rule.
func AtEdge() (string, error) {
	v := os.Getenv(EdgeEnv)
	if v == "" {
		return "", nil
	}
	rule, err := edgeRule(v, time.Now())
	if err != nil {
		return "", fmt.Errorf("%s=%q: %w", EdgeEnv, v, err)
	}
	_, off := time.Unix(0, 0).In(rule.Location).Zone()
	if err := os.Setenv(EdgeEnv, fmt.Sprintf("rule:%d:%d", rule.StartDay, off)); err != nil {
		return "", err
	}
	model.MonthlyUTC, model.PeriodFallback = rule, rule // the rule of an absent config and of one that cannot be read: one rule
	p := rule.At(time.Now())
	return fmt.Sprintf("%s: the default billing period is %s – %s (UTC); now is %v after its start, %v before its end",
		EdgeEnv, p.Start.UTC().Format(time.DateTime), p.End.UTC().Format(time.DateTime),
		time.Since(p.Start).Round(time.Second), time.Until(p.End).Round(time.Second)), nil
}

// edgeRule resolves an EdgeEnv value at now.
func edgeRule(v string, now time.Time) (model.PeriodRule, error) {
	kind, arg, ok := strings.Cut(v, ":")
	if !ok {
		return model.PeriodRule{}, fmt.Errorf("want start:<duration>, end:<duration> or rule:<day>:<offset>")
	}
	if kind == "rule" {
		ds, offs, ok := strings.Cut(arg, ":")
		day, err1 := strconv.Atoi(ds)
		off, err2 := strconv.Atoi(offs)
		if !ok || err1 != nil || err2 != nil || day < 1 || day > 28 {
			return model.PeriodRule{}, fmt.Errorf("want rule:<start day 1-28>:<offset in seconds>")
		}
		return model.PeriodRule{StartDay: day, Location: time.FixedZone("edge", off)}, nil
	}
	d, err := time.ParseDuration(arg)
	if err != nil || d < 0 || d%time.Second != 0 {
		return model.PeriodRule{}, fmt.Errorf("want a duration of whole seconds: %v", err)
	}
	now = now.Truncate(time.Second)
	var edge time.Time // the instant a period starts (and the one before ends)
	switch kind {
	case "start":
		edge = now.Add(-d)
	case "end":
		edge = now.Add(d)
	default:
		return model.PeriodRule{}, fmt.Errorf("want start or end, not %q", kind)
	}
	// the zone whose midnight is edge, within 12 h of UTC
	u := edge.UTC()
	tod := time.Duration(u.Hour())*time.Hour + time.Duration(u.Minute())*time.Minute + time.Duration(u.Second())*time.Second
	off := -tod
	if tod > 12*time.Hour {
		off = 24*time.Hour - tod
	}
	loc := time.FixedZone("edge", int(off/time.Second))
	day := edge.In(loc).Day()
	if day > 28 {
		return model.PeriodRule{}, fmt.Errorf("the edge falls on day %d: start days are 1-28 (try another duration)", day)
	}
	rule := model.PeriodRule{StartDay: day, Location: loc}
	if !rule.At(edge).Start.Equal(edge) {
		return model.PeriodRule{}, fmt.Errorf("no rule starts a period at %v", edge)
	}
	return rule, nil
}

// MainAtEdge is a package's whole TestMain when it needs nothing else: AtEdge
// (its note on stderr; a value it cannot use exits 2), then the tests.
func MainAtEdge(m *testing.M) {
	if say, err := AtEdge(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	} else if say != "" {
		fmt.Fprintln(os.Stderr, say)
	}
	os.Exit(m.Run())
}
