package feed

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/model"
)

// TestAWriteToAReplicaSaysREADONLY: emit and budget set against a read-only
// replica printed "not recorded after 7 attempts: EXECABORT Transaction
// discarded because of previous errors", never READONLY: Redis refuses the
// command while it is queued and then the EXEC, and only the EXEC's refusal
// was read. The queued command's own refusal leads the error now, and it is
// still retried within RetryFor (a failover can promote the replica), the
// error saying why.
func TestAWriteToAReplicaSaysREADONLY(t *testing.T) {
	_, replica, makeReplica := replicaPair(t)
	makeReplica()
	ctx := context.Background()
	c := replica.Client()
	pub := NewPublisher(c, PublisherOptions{RetryFor: 300 * time.Millisecond, Backoff: &Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	err := pub.Track(ctx, usage("alpha", "web", "/responses", 5))
	if err == nil || !strings.Contains(err.Error(), "READONLY You can't write against a read only replica") ||
		!strings.Contains(err.Error(), "not recorded after") || !NotNow(err) {
		t.Errorf("emit to a replica: %v (not now: %v), want READONLY, retried, still 'not now'", err, NotNow(err))
	}
	store := NewSettingsStore(c, StoreOptions{})
	err = store.SetWorkspace(ctx, "alpha", model.Settings{Allocation: 1000})
	if err == nil || !strings.Contains(err.Error(), "READONLY You can't write against a read only replica") {
		t.Errorf("budget set on a replica: %v, want READONLY", err)
	}
}
