package model

import "time"

// VerdictForecast is workspace ws judged (Verdict) with the forecast of the
// budget that sets its level: the workspace's own Forecast when its own cap
// does, else the forecast of the project's usage limit, from the project's
// own burn (kept while it has a limit) against what is left of that limit.
// A surface that shows a level beside a run-out shows these two together,
// so "crit" by a project's limit never sits beside "runs out in 4 days" of
// the workspace's allocation. False when the ledger does not know ws.
//
// A project's burn is kept from when it has a usage limit: a limit set
// while mavtop runs gives a burn over the time since (the hour's history
// read back at a start counts for every limit known then).
func (l *Ledger) VerdictForecast(ws string, now time.Time) (Verdict, Forecast, bool) {
	w := l.ws[ws]
	if w == nil {
		return Verdict{}, Forecast{}, false
	}
	v, f := l.verdictForecast(w, now)
	return v, f, true
}

// verdictForecast is VerdictForecast of the workspace state w: the one
// judgement the row, the detail view and the run_out alert share.
func (l *Ledger) verdictForecast(w *wsState, now time.Time) (Verdict, Forecast) {
	v := l.verdict(w, w.status(l.defaults))
	if v.Project == "" {
		return v, l.forecast(w, now)
	}
	var r *burnRing
	p := w.projects[v.Project]
	if p != nil {
		r = p.burn
	}
	f := l.burnForecast(r, now)
	f.Remaining, f.RemainingKnown = v.Status.Remaining, v.Status.RemainingKnown
	// the API refuses the project's calls now (a budget_exceeded newer than
	// its last success): its limit is reached whatever mavtop's counters
	// leave, as a credits_exhausted 402 makes a workspace OUT
	return v, f.project().held(v.Status.LimitHeld)
}
