package model

import "strconv"

// outEpisode is one stretch of OUT by a credits_exhausted 402 (wsState.blocked):
// from the first such 402 newer than the last credit added to the next credit
// added. Each episode is its own refusal alert, so a workspace refused again
// after a recharge fires again in the same billing period, where one alert id
// (resolved by the recharge, final for the period) fired nothing.
type outEpisode struct {
	// set: an episode began in this ledger's period (else none is known).
	set bool
	// first: no credit was added this period before it began (no recharge,
	// no allocation raise): its alert keeps the plain id every earlier
	// version used, and a fresh start that finds it by the counters alone
	// names it alike.
	first bool
	// allocation and recharged are the workspace's when it began: its
	// resolution says what was added since ("recharge +50").
	allocation, recharged int64
}

// startOut records that an OUT episode begins now, with the workspace's
// allocation and recharges as they stand (period: the ledger's); the one it
// follows is kept, so its alert resolves as an episode ended by credit added
// even when the credit and the next 402 come between two judgements.
func (w *wsState) startOut(p Period) {
	if w.out.set {
		w.prevOut = w.out
	}
	w.out = outEpisode{set: true, first: w.recharged == 0 && !w.raisedIn(p),
		allocation: w.settings.Allocation, recharged: w.recharged}
}

// detail is the id detail of the episode's credits_exhausted refusal alert:
// the code for the period's first episode (or none known), else the code and
// the credits (allocation plus recharges) the episode began with, which
// every credit added changes: "credits_exhausted@150".
func (o outEpisode) detail() string {
	if !o.set || o.first {
		return CodeCreditsExhausted
	}
	return CodeCreditsExhausted + "@" + strconv.FormatInt(o.allocation+o.recharged, 10)
}
