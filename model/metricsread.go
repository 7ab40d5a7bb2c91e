package model

// EachSummary calls f with every workspace's summary, in no particular order,
// without building a slice of them all: a reader that keeps a few (the
// metrics' bounded set) or counts them pays one Summary at a time. s is
// reused from one call to the next (copy what you keep).
func (l *Ledger) EachSummary(f func(s *Summary)) {
	var s Summary
	for _, w := range l.ws {
		s = l.summary(w)
		f(&s)
	}
}

// EachCounter calls used with each of workspace ws's credits by project and
// endpoint, and refused with each of its 402 counts by project and code (the
// fields of the used_by and refused hashes that are ws's), in no particular
// order: one workspace's share of Totals without walking the others. It
// reports false when the ledger does not know ws.
func (l *Ledger) EachCounter(ws string, used func(project, endpoint string, n int64), refused func(project, code string, n int64)) bool {
	w := l.ws[ws]
	if w == nil {
		return false
	}
	for _, p := range w.projects {
		for _, e := range p.endpoints {
			used(p.name, e.name, e.credits)
		}
		for code, n := range p.refused {
			refused(p.name, code, n)
		}
	}
	return true
}
