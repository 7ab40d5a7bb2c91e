package feed

import "mavtop/model"

// LedgerState is a model.Ledger kept current by subscriber messages: it seeds on
// a SnapshotMsg, applies the BatchMsgs of the same generation and drops stale
// ones. The hub keeps one; every viewer keeps its own.
type LedgerState struct {
	Ledger *model.Ledger
	Gen    uint64
	// DefaultAlerts are the thresholds of workspaces without their own (nil:
	// the snapshot's, else 50, 75, 90), given to every ledger this state starts.
	DefaultAlerts []int
	// Source is the last snapshot's Source ("" for the stream).
	Source string
	// fresh is the generation of the last re-read that started a fresh
	// ledger (SnapshotMsg.Fresh): history read back for an older one may
	// hold events the server lost, or is folded again by the fresh ledger's
	// own read-back.
	fresh uint64
}

// Apply folds one message into the ledger and reports whether the ledger changed.
func (s *LedgerState) Apply(m Msg) bool {
	switch m := m.(type) {
	case *SnapshotMsg:
		if m.Fresh() {
			s.fresh = m.Gen
		}
		if m.Ledger != nil { // the hub's, seeded and read back already
			s.Ledger, s.Gen, s.Source = m.Ledger, m.Gen, m.Source
			return true
		}
		// After a re-read that went back in time nothing derived from events
		// survives (ages, burn, OUT, the 402 log may hold lost events), and
		// a new period is judged from its own entries: start afresh, as a
		// mavtop started now would; the history of this generation follows.
		if s.Ledger == nil || m.Fresh() || !sameRule(s.Ledger.Rule(), m.Rule) {
			alerts := s.DefaultAlerts
			if alerts == nil {
				alerts = m.DefaultAlerts
			}
			s.Ledger = model.NewLedger(m.Rule, m.At).WithDefaultAlerts(alerts)
		}
		s.Ledger.SetAudited(m.Audited)
		s.Ledger.Seed(m.Snap, m.At)
		if !m.HistoryFrom.IsZero() { // an empty history says the last hour was quiet
			s.Ledger.Backfill(m.History, m.HistoryFrom)
		}
		s.Gen, s.Source = m.Gen, m.Source
		return true
	case *AuditMsg:
		if s.Ledger == nil || m.Gen != s.Gen {
			return false
		}
		s.Ledger.CountersHeld(m.StreamID)
		return true
	case *UsedByMsg:
		if s.Ledger == nil || m.Gen != s.Gen {
			return false
		}
		s.Ledger.MarkProjectsUnreadable(m.Unreadable)
		s.Ledger.SeedUsedBy(m.UsedBy, m.StreamID)
		return true
	case *BatchMsg:
		if s.Ledger == nil || m.Gen != s.Gen {
			return false // from before the snapshot that replaced it
		}
		s.Ledger.ApplyBatch(m.Events)
		s.Ledger.AdvanceRead(m.Read)
		return true
	case *LedgerMsg:
		s.Ledger, s.Gen, s.Source = m.Ledger, m.Gen, m.Source
		s.fresh = max(s.fresh, m.Fresh)
		return true
	case *HistoryMsg:
		// Whatever generation: past burn and 402s stay true across re-reads,
		// but not across one that went back in time, and a fresh ledger reads
		// its own.
		if s.Ledger == nil || m.Folded || m.Gen < s.fresh {
			return false
		}
		s.Ledger.Backfill(m.Events, m.From)
		if m.Done {
			s.Ledger.DateRows(m.Ages, m.AgesBefore)
			s.Ledger.EndHistory()
		}
		return true
	}
	return false
}

// ApplyEach applies a batch of the current generation event by event, calling
// after each one (a dashboard raises its alerts in the order things happened).
// It reports whether the batch was applied.
func (s *LedgerState) ApplyEach(m *BatchMsg, after func(e *model.Event)) bool {
	if s.Ledger == nil || m.Gen != s.Gen {
		return false
	}
	for i := range m.Events {
		s.Ledger.Apply(&m.Events[i])
		after(&m.Events[i])
	}
	s.Ledger.AdvanceRead(m.Read)
	return true
}

func sameRule(a, b model.PeriodRule) bool {
	return a.StartDay == b.StartDay && a.Location.String() == b.Location.String()
}
