package estimator_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"mavtop/estimator"
)

const day = 24 * time.Hour

// seedThresholds are the thresholds in force for a workspace without its own
// (model.DefaultThresholds; the estimator takes them from its caller).
var seedThresholds = []int{50, 75, 90}

func TestLookAhead(t *testing.T) {
	acme := func(used int64, burn float64, left time.Duration) estimator.Budget {
		return estimator.Budget{Workspace: "acme", Used: used, Allocation: 1000, Thresholds: seedThresholds, BurnPerHour: burn, PeriodLeft: left}
	}
	tests := []struct {
		name     string
		b        estimator.Budget
		estimate int64
		want     estimator.Outlook
	}{
		{"crosses immediately", acme(700, 0, 10*day), 100, estimator.Outlook{
			UsedAfter: 800, Threshold: 75, CrossesNow: true,
			Message: "this job takes acme past 75 % (80 % after it)"}},
		{"crosses two at once, reports the higher", acme(400, 0, 10*day), 400, estimator.Outlook{
			UsedAfter: 800, Threshold: 75, CrossesNow: true,
			Message: "this job takes acme past 75 % (80 % after it)"}},
		{"lands exactly on 50 %", acme(450, 0, 10*day), 50, estimator.Outlook{
			UsedAfter: 500, Threshold: 50, CrossesNow: true,
			Message: "this job takes acme past 50 % (50 % after it)"}},
		{"one short of 50 %, idle", acme(449, 0, 10*day), 50, estimator.Outlook{UsedAfter: 499}},
		{"crosses later at burn and runs out", acme(600, 25, 10*day), 100, estimator.Outlook{
			UsedAfter: 700, Threshold: 75, CrossesIn: 2 * time.Hour, RunsOut: true, RunsOutIn: 12 * time.Hour,
			Message: "after this job, at today's burn, acme crosses 75 % in 2 h and runs out before the period ends (in 12 h)"}},
		{"crosses now and runs out later", acme(700, 50, 10*day), 100, estimator.Outlook{
			UsedAfter: 800, Threshold: 75, CrossesNow: true, RunsOut: true, RunsOutIn: 4 * time.Hour,
			Message: "this job takes acme past 75 % (80 % after it); at today's burn it runs out before the period ends (in 4 h)"}},
		{"the period ends first", acme(600, 1, day), 100, estimator.Outlook{UsedAfter: 700}},
		{"threshold reached exactly at period end is not before it", acme(600, 25, 2*time.Hour), 100, estimator.Outlook{UsedAfter: 700}},
		{"runs out before period end only", acme(920, 10, 3*day), 30, estimator.Outlook{
			UsedAfter: 950, RunsOut: true, RunsOutIn: 5 * time.Hour,
			Message: "after this job, at today's burn, acme runs out before the period ends (in 5 h)"}},
		{"job uses up the allocation", acme(900, 0, 3*day), 150, estimator.Outlook{
			UsedAfter: 1050, RunsOut: true, RunsOutNow: true,
			Message: "this job uses up acme's allocation (1,050 of 1,000 credits after it)"}},
		{"job lands exactly on the allocation, past 90 % too", acme(880, 0, 3*day), 120, estimator.Outlook{
			UsedAfter: 1000, Threshold: 90, CrossesNow: true, RunsOut: true, RunsOutNow: true,
			Message: "this job uses up acme's allocation (1,000 of 1,000 credits after it)"}},
		{"already exhausted", acme(1000, 5, 3*day), 0, estimator.Outlook{
			UsedAfter: 1000, RunsOut: true, RunsOutNow: true,
			Message: "acme has already used its allocation (1,000 of 1,000 credits)"}},
		{"zero burn, nothing near", acme(100, 0, 20*day), 50, estimator.Outlook{UsedAfter: 150}},
		{"no allocation", estimator.Budget{Workspace: "acme", Used: 5000, BurnPerHour: 100, PeriodLeft: day}, 500, estimator.Outlook{UsedAfter: 5500}},
		{"days, unnamed workspace", estimator.Budget{Used: 5000, Allocation: 10000, Thresholds: seedThresholds, BurnPerHour: 30, PeriodLeft: 5 * day}, 1000, estimator.Outlook{
			UsedAfter: 6000, Threshold: 75, CrossesIn: 50 * time.Hour,
			Message: "after this job, at today's burn, the workspace crosses 75 % in 2 days"}},
		{"custom threshold, rounded up", estimator.Budget{Workspace: "w", Used: 200, Allocation: 333, Thresholds: []int{80}}, 67, estimator.Outlook{
			UsedAfter: 267, Threshold: 80, CrossesNow: true,
			Message: "this job takes w past 80 % (80 % after it)"}},
		{"custom threshold, one short", estimator.Budget{Workspace: "w", Used: 200, Allocation: 333, Thresholds: []int{80}}, 66, estimator.Outlook{UsedAfter: 266}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := estimator.LookAhead(tt.b, tt.estimate)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLookAheadErrors(t *testing.T) {
	ok := estimator.Budget{Used: 10, Allocation: 100, BurnPerHour: 1, PeriodLeft: day}
	tests := []struct {
		name     string
		edit     func(*estimator.Budget)
		estimate int64
		want     string
	}{
		{"negative used", func(b *estimator.Budget) { b.Used = -1 }, 10, "used -1 must be between 0"},
		{"negative allocation", func(b *estimator.Budget) { b.Allocation = -5 }, 10, "allocation -5 must be between 0"},
		{"negative estimate", func(*estimator.Budget) {}, -3, "estimate -3 must be between 0"},
		{"huge estimate", func(*estimator.Budget) {}, math.MaxInt64, "estimate 9223372036854775807 must be between 0"},
		{"negative burn", func(b *estimator.Budget) { b.BurnPerHour = -2 }, 10, "burn rate -2 credits/hour"},
		{"NaN burn", func(b *estimator.Budget) { b.BurnPerHour = math.NaN() }, 10, "burn rate NaN"},
		{"negative period left", func(b *estimator.Budget) { b.PeriodLeft = -time.Second }, 10, "time left in the period -1s must not be negative"},
		{"threshold zero", func(b *estimator.Budget) { b.Thresholds = []int{0} }, 10, "alert threshold 0 % must be between 1 and 100"},
		{"threshold descending", func(b *estimator.Budget) { b.Thresholds = []int{75, 50} }, 10, "alert thresholds must ascend: 50 % after 75 %"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ok
			tt.edit(&b)
			got, err := estimator.LookAhead(b, tt.estimate)
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestHumanize(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-5 * time.Second, "0 s"},
		{0, "0 s"},
		{45 * time.Second, "45 s"},
		{59*time.Second + 900*time.Millisecond, "59 s"},
		{time.Minute, "1 min"},
		{12*time.Minute + 30*time.Second, "12 min"},
		{59*time.Minute + 59*time.Second, "59 min"},
		{time.Hour, "1 h"},
		{5*time.Hour + 59*time.Minute, "5 h"},
		{47*time.Hour + 59*time.Minute, "47 h"},
		{48 * time.Hour, "2 days"},
		{71 * time.Hour, "2 days"},
		{10 * day, "10 days"},
	}
	for _, tt := range tests {
		if got := estimator.Humanize(tt.d); got != tt.want {
			t.Errorf("Humanize(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFormatCredits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := estimator.FormatCredits(n); got != want {
			t.Errorf("FormatCredits(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestLookAheadNamesTheCapThatBinds: a workspace whose usage limit (400) is
// below its allocation (1,000) has used its usage limit, not its allocation
// — "used its allocation (500 of 400 credits)" named the wrong figure
// (hostile15 #2).
func TestLookAheadNamesTheCapThatBinds(t *testing.T) {
	o, err := estimator.LookAhead(estimator.Budget{Workspace: "gg", Used: 500, Allocation: 400, CapName: "usage limit", PeriodLeft: time.Hour}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := "gg has already used its usage limit (500 of 400 credits)"; o.Message != want {
		t.Errorf("%q, want %q", o.Message, want)
	}
	o, _ = estimator.LookAhead(estimator.Budget{Workspace: "gg", Used: 390, Allocation: 400, CapName: "usage limit", PeriodLeft: time.Hour}, 20)
	if want := "this job uses up gg's usage limit (410 of 400 credits after it)"; o.Message != want {
		t.Errorf("%q, want %q", o.Message, want)
	}
}
