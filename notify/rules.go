package notify

import (
	"context"
	"errors"
	"slices"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// checkRules reads the alert rules every instance sharing the store judges by
// (storing each no instance stored yet from this one's) and makes this
// instance judge by them: the stored rules are the shared truth, the flags
// only seed them. A rule stored that differs from the one this instance
// judges by is adopted (the hub's ledger re-judged by the new thresholds,
// the evaluator by the new stale limit), then every transition is held for
// rulesSettle, so that no instance fires or resolves by rules another has not
// read yet. A rule given explicitly by a flag (WatcherOptions.Pinned) that
// the store contradicts is not adopted: the watcher holds every alert and
// says so (RulesDisagree, the pane, the log, mavtop_alert_rules_disagree). A
// field stored that cannot be read is judged at its built-in value and named
// (RulesNote). When Redis cannot be reached the last rules and words stay.
func (w *Watcher) checkRules(ctx context.Context, now time.Time) {
	if w.rules.IsZero() {
		return
	}
	held, err := w.opt.Store.SeedRules(ctx, w.rules)
	var note string
	var bad *feed.AlertRulesError
	switch {
	case errors.As(err, &bad):
		note = bad.Error()
	case err != nil:
		return
	}
	why := ""
	pinned := w.opt.Pinned
	if pinned.Source == "" {
		pinned.Source = w.source // what auto chose: "" before the first snapshot
	}
	if d := held.Disagree(pinned); d != "" {
		why = "this mavtop is given " + d + ": it neither fires nor resolves alerts until the flag is dropped or the shared rules changed back (mavtop budget rules)"
		if held.Disagree(feed.AlertRules{Source: pinned.Source, CounterPattern: pinned.CounterPattern}) != "" {
			why += "; the source is taken at the start: restart it to read the shared one"
		}
	}
	next := w.rules
	if held.DefaultAlerts != nil && (w.opt.Pinned.DefaultAlerts == nil || slices.Equal(held.DefaultAlerts, w.opt.Pinned.DefaultAlerts)) {
		next.DefaultAlerts = held.DefaultAlerts
	}
	if held.Stale != 0 && (w.opt.Pinned.Stale == 0 || held.Stale == w.opt.Pinned.Stale) {
		next.Stale = held.Stale
	}
	adopted := !slices.Equal(next.DefaultAlerts, w.rules.DefaultAlerts) || next.Stale != w.rules.Stale
	if adopted {
		if next.Stale != w.rules.Stale {
			w.opt.Alert.Stale = next.Stale
			w.eval = nil // judged afresh by the new limit
		}
		if !slices.Equal(next.DefaultAlerts, w.rules.DefaultAlerts) && w.opt.Hub != nil {
			w.opt.Hub.SetDefaultAlerts(next.DefaultAlerts)
		}
		w.rulesSettle = now.Add(w.settle())
	}
	w.mu.Lock()
	w.rules = next
	changed := w.rulesWhy != why || w.rulesNote != note
	whyChanged, noteChanged := w.rulesWhy != why, w.rulesNote != note
	w.rulesWhy, w.rulesNote = why, note
	if changed {
		w.life.changed = true // the pane's next lifecycle says it
	}
	w.mu.Unlock()
	log := w.opt.Logger
	if log == nil {
		return
	}
	if adopted {
		log.Info("alert rules changed: judging by the shared ones", "rules", next.String(), "held_for", w.settle())
	}
	if noteChanged {
		if note != "" {
			log.Warn("an alert rule stored cannot be read", "why", note)
		} else {
			log.Info("the alert rules stored can be read again")
		}
	}
	if whyChanged {
		if why != "" {
			log.Warn("alert rules disagree with the shared ones: holding every alert", "why", why)
		} else {
			log.Info("alert rules agree with the shared ones again: judging alerts")
		}
	}
}

// settle is how long transitions are held after this instance adopted new
// rules: every instance reads the rules at each cycle (Every), so two cycles
// and a second after this one read them every other running instance has
// too, and its ledger is the one re-judged by them.
func (w *Watcher) settle() time.Duration { return 2*w.opt.Every + time.Second }

// rulesHeld says why this cycle records no transition because of the rules
// ("" when it may): they disagree with a flag given, they changed moments
// ago, or the ledger l is not yet the one re-judged by the thresholds adopted.
func (w *Watcher) rulesHeld(l *model.Ledger, now time.Time) string {
	if why := w.RulesDisagree(); why != "" {
		return why
	}
	if now.Before(w.rulesSettle) {
		return "the alert rules changed"
	}
	if w.rules.DefaultAlerts != nil {
		th := l.DefaultAlerts()
		if th == nil {
			th = model.DefaultThresholds()
		}
		if !slices.Equal(th, w.rules.DefaultAlerts) {
			return "the ledger is re-judged by the new thresholds"
		}
	}
	return ""
}

// RulesDisagree says how this instance's alert rules disagree with those
// every instance sharing the store judges by ("" while they agree): while
// they do, it records no transition.
func (w *Watcher) RulesDisagree() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rulesWhy
}

// RulesNote names the alert rules stored that cannot be read, each judged at
// its built-in value meanwhile ("" when every rule stored can be read):
// `{mavera}:alert_rules field default_alerts holds "50,75,100" (…)`.
func (w *Watcher) RulesNote() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rulesNote
}

// Rules returns the alert rules this instance judges by now (zero: none
// compared with the store).
func (w *Watcher) Rules() feed.AlertRules {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rules
}
