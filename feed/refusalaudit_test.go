package feed

import (
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// A counted 402 is confirmed by an audit within RefusalAuditWithin whatever
// --audit: 240012c judges a workspace's refusals alert unknown from the 402
// read off the stream until an audit sees the counters hold it, and with the
// audit on a 60 s cadence that alert came up to a minute late. Real
// redis-server; the 402 is written by the publisher (counters and entry in
// one MULTI). With the bound off (auditDue on AuditEvery alone) the
// credits_exhausted alert stays unknown for the whole wait.
func TestACountedRefusalIsConfirmedWithinTheBoundWhateverTheAuditCadence(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	midPeriod(t, c)
	allocate(t, c, map[string]int64{"plain": 100})
	pub := NewPublisher(c, PublisherOptions{})
	trackAll(t, pub, usage("plain", "", "/responses", 100))

	live := startState(t, c, SubscriberOptions{AuditEvery: 10 * time.Minute, Now: time.Now})
	live.wait(t, "the start", 20*time.Second, func(l *model.Ledger) bool {
		return !l.HistoryPending() && !l.UsedByPending()
	})
	trackAll(t, pub, refused("plain", "", "/responses", model.CodeCreditsExhausted))
	live.wait(t, "the 402 read", 10*time.Second, func(l *model.Ledger) bool { return len(l.Refusals(nil, 10)) == 1 })
	read := time.Now()
	live.wait(t, "the credits_exhausted alert to hold", RefusalAuditWithin+5*time.Second, func(l *model.Ledger) bool {
		return judgeLedger(l, "plain").exhausted == model.ConditionHolds
	})
	if took := time.Since(read); took > RefusalAuditWithin+2*time.Second {
		t.Errorf("the 402 was confirmed %v after it was read, want within %v", took, RefusalAuditWithin)
	}
}
