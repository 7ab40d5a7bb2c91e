package notify

import (
	"context"
	"errors"

	"mavtop/feed"
)

// checkRules compares the alert rules this instance judges by with those
// the store holds (storing each no instance stored yet), and keeps how they
// disagree; a change is logged. When Redis cannot be reached the last word
// stays (the store's error says the rest).
func (w *Watcher) checkRules(ctx context.Context) {
	own := w.opt.Rules
	if own.IsZero() {
		return
	}
	held, err := w.opt.Store.SeedRules(ctx, own)
	var why string
	var bad *feed.AlertRulesError
	switch {
	case errors.As(err, &bad):
		why = bad.Error()
	case err != nil:
		return
	default:
		if d := held.Disagree(own); d != "" {
			why = "this mavtop judges by " + d + ": it neither fires nor resolves alerts until restarted with the shared rules (mavtop budget rules)"
		}
	}
	w.mu.Lock()
	changed := w.rulesWhy != why
	w.rulesWhy = why
	if changed {
		w.life.changed = true // the pane's next lifecycle says it
	}
	w.mu.Unlock()
	if !changed || w.opt.Logger == nil {
		return
	}
	if why != "" {
		w.opt.Logger.Warn("alert rules disagree with the shared ones: holding every alert", "why", why)
	} else {
		w.opt.Logger.Info("alert rules agree with the shared ones again: judging alerts")
	}
}

// RulesDisagree says how this instance's alert rules disagree with those
// every instance sharing the store judges by ("" while they agree): while
// they do, it records no transition.
func (w *Watcher) RulesDisagree() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rulesWhy
}
