package model

import (
	"strings"
	"testing"
	"time"
)

// TestAutoRechargeIsNeverCriticalByTopUpsAlone: with auto-recharge on, each
// top-up comes when remaining < RechargeBelow, so used over allocation +
// recharges tends to 100 %: judged by the cap's last threshold the workspace
// read critical for ever, like one about to be refused (review11 #7). The
// level is the risk of refusal: the cap's thresholds take it to high at most
// (living on top-ups); critical is the usage limit's last threshold (or a
// 402 holding it), OUT remaining ≤ 0 or a credits_exhausted 402.
func TestAutoRechargeIsNeverCriticalByTopUpsAlone(t *testing.T) {
	auto := Settings{Allocation: 1000, RechargeBelow: 100, RechargeAmount: 500}
	limited := auto
	limited.UsageLimit = 10_000
	off := Settings{Allocation: 1000}
	two := auto
	two.Alerts = []int{80, 95}
	one := auto
	one.Alerts = []int{60}
	cases := []struct {
		name   string
		s      Settings
		u      Usage
		level  Level
		topsUp bool
		kind   CapKind
	}{
		{"below the first threshold", auto, Usage{Used: 400}, LevelOK, true, CapAllocation},
		{"past the second", auto, Usage{Used: 800}, LevelHigh, true, CapAllocation},
		{"past the last, before the first top-up", auto, Usage{Used: 950}, LevelHigh, true, CapAllocation},
		{"after six top-ups, 98.8 %", auto, Usage{Used: 3950, Recharged: 3000}, LevelHigh, true, CapAllocation},
		{"after six top-ups, 1 credit left", auto, Usage{Used: 3999, Recharged: 3000}, LevelHigh, true, CapAllocation},
		{"a top-up that did not come: used up", auto, Usage{Used: 4000, Recharged: 3000}, LevelExhausted, true, CapAllocation},
		{"a credits_exhausted 402 newer than the last credit", auto, Usage{Used: 3500, Recharged: 3000, Refusing: true}, LevelExhausted, true, CapAllocation},
		{"auto-recharge off: critical as ever", off, Usage{Used: 950}, LevelCritical, false, CapAllocation},
		{"half set (no amount): off", Settings{Allocation: 1000, RechargeBelow: 100}, Usage{Used: 950}, LevelCritical, false, CapAllocation},
		{"thresholds 80/95: the last is high", two, Usage{Used: 960}, LevelHigh, true, CapAllocation},
		{"threshold 60 alone: high, not critical", one, Usage{Used: 600}, LevelHigh, true, CapAllocation},
		{"usage limit far: high", limited, Usage{Used: 3950, Recharged: 3000}, LevelHigh, true, CapAllocation},
		{"just under 90 % of the usage limit: high", limited, Usage{Used: 8999, Recharged: 8500}, LevelHigh, true, CapAllocation},
		{"90 % of the usage limit, the allocation binding: critical", limited, Usage{Used: 9000, Recharged: 8500}, LevelCritical, true, CapAllocation},
		{"the usage limit binds: its thresholds as ever", limited, Usage{Used: 9100, Recharged: 9500}, LevelCritical, false, CapLimit},
		{"the usage limit reached: out", limited, Usage{Used: 10_000, Recharged: 9500}, LevelExhausted, false, CapLimit},
		{"a budget_exceeded 402 holds the limit: critical", auto, Usage{Used: 300, LimitRefusing: true}, LevelCritical, true, CapAllocation},
	}
	for _, c := range cases {
		st := Assess(&c.s, c.u, nil)
		if st.Level != c.level || st.TopsUp != c.topsUp || st.CapKind != c.kind {
			t.Errorf("%s: level %v, tops up %v, cap %v; want %v, %v, %v", c.name, st.Level, st.TopsUp, st.CapKind, c.level, c.topsUp, c.kind)
		}
	}
}

// TestAutoRechargeCrossingAndAlertsSayHigh: the crossing of the cap's last
// threshold, the threshold alerts and the gauge say one level for a
// workspace auto-recharge tops up — high after several top-ups — and
// critical once 90 % of its usage limit is used.
func TestAutoRechargeCrossingAndAlertsSayHigh(t *testing.T) {
	l := NewLedger(MonthlyUTC, t0)
	l.SetSettings("acme", Settings{Allocation: 1000, UsageLimit: 5200, RechargeBelow: 100, RechargeAmount: 500}, ms(0))
	at := time.Duration(0)
	var crossed []Crossing
	// spend 50 at a time, topped up as the API does: right after the charge
	// that takes remaining below 100
	spend := func(upTo int64) {
		for {
			s, _ := l.Summary("acme")
			if s.Used >= upTo {
				return
			}
			at += time.Second
			e := use("acme", "", "/responses", 50, at)
			l.Apply(&e)
			crossed = append(crossed, l.TakeCrossings()...)
			if s, _ := l.Summary("acme"); s.Remaining < 100 {
				at += time.Millisecond
				l.Apply(&Event{TS: ms(at), Workspace: "acme", Kind: KindRecharge, Credits: 500})
			}
		}
	}
	spend(3200) // five top-ups, 91.4 % of 3,500
	s, _ := l.Summary("acme")
	if s.Recharged != 2500 || s.Level != LevelHigh || s.Verdict.Level != LevelHigh {
		t.Fatalf("after five top-ups: recharged %d, level %v, verdict %v; want 2,500, high, high", s.Recharged, s.Level, s.Verdict.Level)
	}
	var last *Crossing
	for i := range crossed {
		if crossed[i].Kind == CrossThreshold && crossed[i].Threshold == 90 {
			last = &crossed[i]
		}
	}
	if last == nil || last.Level != LevelHigh {
		t.Fatalf("the 90 %% crossing: %+v, want level high", last)
	}
	alerts := EvaluateAlerts(l, t0.Add(at), FeedHealth{Connected: true}, AlertOptions{}, nil)
	for _, a := range alerts {
		if a.Workspace == "acme" && a.Level != LevelHigh {
			t.Errorf("alert %s: level %v, want high (the gauge's)", a.ID, a.Level)
		}
	}
	// spend past 90 % of the 5,200-credit usage limit (4,680), the
	// allocation plus eight top-ups (5,000) still binding
	spend(4700)
	s, _ = l.Summary("acme")
	if s.Level != LevelCritical || s.CapKind != CapAllocation {
		t.Fatalf("at %d used, cap %d (%v): level %v, want critical by the usage limit", s.Used, s.Cap, s.CapKind, s.Level)
	}
	// the judgement that sets the level is the usage limit's: the row's
	// figures are of it
	if v := s.Verdict; v.Level != LevelCritical || v.Project != "" || v.Status.CapKind != CapLimit || v.Status.Cap != 5200 || v.Status.Percent != 4700.0*100/5200 {
		t.Errorf("verdict %v (%q) by %v %d at %.1f %%, want critical by the 5,200-credit usage limit at 90.3 %%", v.Level, v.Project, v.Status.CapKind, v.Status.Cap, v.Status.Percent)
	}
	if w := TopUpLevelWords(&s.Status, 5200); !strings.HasPrefix(w, "critical at 90.3 % of its 5,200-credit usage limit") {
		t.Errorf("words %q", w)
	}
	for _, a := range EvaluateAlerts(l, t0.Add(at), FeedHealth{Connected: true}, AlertOptions{}, nil) {
		if a.Workspace == "acme" && a.Kind == AlertThreshold && a.Level != LevelCritical {
			t.Errorf("alert %s: level %v, want critical (the gauge's)", a.ID, a.Level)
		}
	}
}

// TestTopUpLevelWords: the reason a topped-up workspace gives for its level.
func TestTopUpLevelWords(t *testing.T) {
	s := Settings{Allocation: 1000, RechargeBelow: 100, RechargeAmount: 500, UsageLimit: 5000}
	cases := []struct {
		u    Usage
		s    Settings
		want string
	}{
		{Usage{Used: 800}, s, ""},
		{Usage{Used: 950}, s, "living on top-ups: auto-recharge is a safety net, upgrade the plan (critical at 90 % of the 5,000-credit usage limit)"},
		{Usage{Used: 950}, Settings{Allocation: 1000, RechargeBelow: 100, RechargeAmount: 500}, "living on top-ups: auto-recharge is a safety net, upgrade the plan"},
		{Usage{Used: 4600, Recharged: 3800}, s, "critical at 92.0 % of its 5,000-credit usage limit: the top-ups stop there"},
		// allocation + recharges equal to the limit: no top-up lifts the
		// cap past it, so the limit binds (not living on top-ups)
		{Usage{Used: 4600, Recharged: 4000}, s, ""},
		{Usage{Used: 1000}, s, ""},
		{Usage{Used: 950}, Settings{Allocation: 1000}, ""},
	}
	for _, c := range cases {
		st := Assess(&c.s, c.u, nil)
		if got := TopUpLevelWords(&st, c.s.UsageLimit); got != c.want {
			t.Errorf("%+v of %+v: %q, want %q", c.u, c.s, got, c.want)
		}
	}
	// the tie judged: the usage limit binds, critical by its own thresholds
	if st := Assess(&s, Usage{Used: 4600, Recharged: 4000}, nil); st.CapKind != CapLimit || st.TopsUp || st.Level != LevelCritical {
		t.Errorf("allocation + recharges = usage limit: %v, tops up %v, %v; want the limit binding, critical", st.CapKind, st.TopsUp, st.Level)
	}
}

// TestAutoRechargeWithRechargesUnreadable: the recharges unknown, the cap
// and so whether auto-recharge tops it up are unknown (TopsUp false, as the
// cap is zero); the level is known where every cap they may make agrees.
func TestAutoRechargeWithRechargesUnreadable(t *testing.T) {
	s := Settings{Allocation: 1000, RechargeBelow: 100, RechargeAmount: 500, UsageLimit: 5000}
	for _, c := range []struct {
		used  int64
		level Level
	}{{300, LevelOK}, {2000, LevelUnknown}} {
		st := Assess(&s, Usage{Used: c.used, RechargedUnreadable: "x"}, nil)
		if st.TopsUp || !st.Unknown.Has(FigCap) || st.Level != c.level {
			t.Errorf("%d used: tops up %v, cap unknown %v, level %v; want false, true, %v", c.used, st.TopsUp, st.Unknown.Has(FigCap), st.Level, c.level)
		}
	}
}

// TestAnOutWorkspaceProjectsNoTopUp: a workspace auto-recharge should top
// up, used up (the top-up did not come: used ≥ allocation + recharges), is
// OUT, and its forecast says so — out now, no top-up projected. It said "top-up
// now, ~5,498 top-ups left" beside ✖ OUT, and with a usage limit above the
// cap "runs out after recharges in 2 h" (hostile13 #1).
func TestAnOutWorkspaceProjectsNoTopUp(t *testing.T) {
	for _, set := range []Settings{
		{Allocation: 1000, RechargeBelow: 10, RechargeAmount: 50},
		{Allocation: 1000, UsageLimit: 3000, RechargeBelow: 10, RechargeAmount: 500},
	} {
		l := NewLedger(MonthlyUTC, t0)
		l.SetSettings("acme", set, ms(0))
		// 20 credits every 10 s for 500 s: 1,000 used, a steady burn
		var at time.Duration
		for range 50 {
			at += 10 * time.Second
			e := use("acme", "", "/x", 20, at)
			l.Apply(&e)
		}
		s, _ := l.Summary("acme")
		f := l.Forecast("acme", t0.Add(at))
		if s.Level != LevelExhausted || !f.RunsOut || f.RunsOutIn != 0 || !f.Reached || f.Recharges || f.RechargeDue || f.AfterRecharges || RechargeWords(f) != "" {
			t.Errorf("%+v: level %v, forecast %+v (%q); want OUT, out now, no top-up", set, s.Level, f, RechargeWords(f))
		}
		if w := TopUpLevelWords(&s.Status, set.UsageLimit); w != "" {
			t.Errorf("%+v: OUT said %q", set, w)
		}
	}
}
