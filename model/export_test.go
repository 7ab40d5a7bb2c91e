package model

// Conditions returns every alert's condition as the evaluator holds it
// after its last call, by id (the feed's own included): what it would judge
// a transition on, which its tests compare with EvaluateAlerts every second.
func (e *AlertEvaluator) Conditions() map[string]AlertCondition {
	m := map[string]AlertCondition{}
	for _, c := range e.ws {
		for _, ca := range c.cands {
			m[ca.id] = ca.cond
		}
	}
	for _, c := range e.feed {
		m[c.id] = c.cond
	}
	return m
}

// Rebuilt returns how many workspaces the evaluator judged whole since made.
func (e *AlertEvaluator) Rebuilt() int { return e.rebuilt }

// FreshHeld returns how many alerts the evaluator holds room for between
// calls (fresh), and the most it may.
func (e *AlertEvaluator) FreshHeld() (held, most int) { return cap(e.fresh), freshKeep }
