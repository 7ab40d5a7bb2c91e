package client_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// newRedis returns a real redis-server when one is installed (the feed's test
// helper; CI requires it), else the embedded one.
func newRedis(t *testing.T) redis.UniversalClient {
	return feedtest.Start(t).Client()
}

// TestRetryQueueRetriesOnceAfterAllocationRise: a focus group refused with 402 is
// queued, not retried while nothing changes, retried exactly once after the
// allocation is raised, and removed on success.
func TestRetryQueueRetriesOnceAfterAllocationRise(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	c := mustClient(t, e, client.WithBalances(e.tr))
	rdb := newRedis(t)
	q := client.NewRetryQueue(rdb, client.WithQueueClock(e.clock))

	// mavtop believes umbrella has 1,000 credits; the API's pool has 50.
	e.tr.SetAllocation("umbrella", 1000)
	if err := e.sb.SetAllocation(testKey, "umbrella", 50); err != nil {
		t.Fatal(err)
	}
	u := c.In("umbrella", "research")
	_, _, err := u.LaunchFocusGroup(ctx, sampleFocusGroup("umbrella", 20, 3))
	if !client.IsCreditsExhausted(err) {
		t.Fatalf("want a 402, got %v", err)
	}
	job, ok := client.RetryJobFrom(err)
	if !ok {
		t.Fatal("no retry job in the 402")
	}
	job, err = q.Enqueue(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if job.ID == "" || job.Project != "research" || job.LastTriedRemaining != 1000 {
		t.Fatalf("queued: %+v", job)
	}

	// The queue survives a restart: a new instance on the same Redis sees the job.
	q = client.NewRetryQueue(rdb, client.WithQueueClock(e.clock))
	if jobs, err := q.List(ctx); err != nil || len(jobs) != 1 || jobs[0].ID != job.ID {
		t.Fatalf("after restart: %+v %v", jobs, err)
	}

	// No rise: nothing is tried.
	res, err := q.Poll(ctx, e.tr, c.Relaunch)
	if err != nil || len(res) != 0 || e.count("POST /focus-groups") != 1 {
		t.Fatalf("poll without a rise tried %+v (%v)", res, err)
	}

	// The allocation is raised (API and mavtop's settings): retried, once.
	if err := e.sb.SetAllocation(testKey, "umbrella", 2000); err != nil {
		t.Fatal(err)
	}
	e.tr.SetAllocation("umbrella", 2000)
	res, err = q.Poll(ctx, e.tr, c.Relaunch)
	if err != nil || len(res) != 1 || res[0].Outcome != client.PollSucceeded || res[0].Remaining != 2000 {
		t.Fatalf("poll after the rise: %+v %v", res, err)
	}
	if n := e.count("POST /focus-groups"); n != 2 {
		t.Fatalf("POST /focus-groups sent %d times, want 2 (refusal + one retry)", n)
	}
	for i := 0; i < 3; i++ {
		if res, err := q.Poll(ctx, e.tr, c.Relaunch); err != nil || len(res) != 0 {
			t.Fatalf("poll after success: %+v %v", res, err)
		}
	}
	if n := e.count("POST /focus-groups"); n != 2 {
		t.Fatalf("retried again after success: %d POSTs", n)
	}
	if jobs, _ := q.List(ctx); len(jobs) != 0 {
		t.Fatalf("job not removed: %+v", jobs)
	}
	// Tracking: the 402 and the success, each once, in umbrella/research.
	evs := e.events()
	if len(evs) != 2 || evs[0].Status != 402 || evs[1].Status != 201 || evs[1].Credits == 0 ||
		evs[1].Project != "research" || evs[1].Op != "focus-group" {
		t.Fatalf("events: %+v", evs)
	}
	if l := e.ledger().Workspaces["umbrella"]; l.Used != evs[1].Credits {
		t.Fatalf("ledger %d, tracked %d", l.Used, evs[1].Credits)
	}
}

// TestRetryQueueRefusedAgainWaitsForNextRise keeps a job refused again, with its
// attempt count, until the balance rises once more.
func TestRetryQueueRefusedAgainWaitsForNextRise(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Config{})
	c := mustClient(t, e, client.WithBalances(e.tr))
	q := client.NewRetryQueue(newRedis(t), client.WithQueueClock(e.clock), client.WithQueuePrefix("{test}"))
	if q.Key() != "{test}:retry" {
		t.Fatalf("key %q", q.Key())
	}
	e.tr.SetAllocation("hooli", 1000)
	e.sb.SetAllocation(testKey, "hooli", 10)
	_, _, err := c.In("hooli", "").LaunchPersona(ctx, client.PersonaRequest{Name: "x", Type: "B2C"})
	job, ok := client.RetryJobFrom(err)
	if !ok {
		t.Fatalf("no retry job: %v", err)
	}
	if _, err := q.Enqueue(ctx, job); err != nil {
		t.Fatal(err)
	}
	// mavtop's view rises, the API's does not: one retry, refused again.
	e.tr.SetAllocation("hooli", 1200)
	res, err := q.Poll(ctx, e.tr, c.Relaunch)
	if err != nil || len(res) != 1 || res[0].Outcome != client.PollRefused {
		t.Fatalf("poll: %+v %v", res, err)
	}
	jobs, _ := q.List(ctx)
	if len(jobs) != 1 || jobs[0].Attempts != 1 || jobs[0].LastTriedRemaining != 1200 || jobs[0].LastCode != model.CodeCreditsExhausted || jobs[0].LeaseOwner != "" {
		t.Fatalf("kept job: %+v", jobs)
	}
	if res, _ := q.Poll(ctx, e.tr, c.Relaunch); len(res) != 0 {
		t.Fatalf("retried without a rise: %+v", res)
	}
	e.sb.SetAllocation(testKey, "hooli", 1000)
	e.tr.SetAllocation("hooli", 1300)
	if res, _ := q.Poll(ctx, e.tr, c.Relaunch); len(res) != 1 || res[0].Outcome != client.PollSucceeded || res[0].Job.Attempts != 2 {
		t.Fatalf("second rise: %+v", res)
	}
	if n := e.count("POST /personas"); n != 3 {
		t.Fatalf("POST /personas sent %d times, want 3", n)
	}
}

// TestRetryQueueFailureBacksOff: a failure that is not a refusal does not use up
// the rise; the job is tried again after the backoff.
func TestRetryQueueFailureBacksOff(t *testing.T) {
	ctx := context.Background()
	clock := newJumpClock()
	q := client.NewRetryQueue(newRedis(t), client.WithQueueClock(clock), client.WithFailureBackoff(time.Minute))
	tr := client.NewMemoryTracker(false)
	tr.SetAllocation("ws", 500)
	if _, err := q.Enqueue(ctx, client.RetryJob{Op: "persona", Workspace: "ws", Required: 360, Payload: []byte(`{}`), LastTriedRemaining: 100}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	launch := func(context.Context, client.RetryJob) error {
		calls++
		if calls == 1 {
			return errors.New("connection reset")
		}
		return nil
	}
	if res, _ := q.Poll(ctx, tr, launch); len(res) != 1 || res[0].Outcome != client.PollFailed {
		t.Fatalf("first poll: %+v", res)
	}
	if res, _ := q.Poll(ctx, tr, launch); len(res) != 0 {
		t.Fatalf("retried inside the backoff: %+v", res)
	}
	jobs, _ := q.List(ctx)
	if len(jobs) != 1 || jobs[0].LastTriedRemaining != 100 || jobs[0].LastError != "connection reset" {
		t.Fatalf("job after failure: %+v", jobs)
	}
	clock.Advance(61 * time.Second)
	if res, _ := q.Poll(ctx, tr, launch); len(res) != 1 || res[0].Outcome != client.PollSucceeded {
		t.Fatalf("after the backoff: %+v", res)
	}
	// Jobs in workspaces without a known balance are left alone.
	if _, err := q.Enqueue(ctx, client.RetryJob{Op: "persona", Workspace: "unknown", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if res, _ := q.Poll(ctx, tr, launch); len(res) != 0 {
		t.Fatalf("tried a job without a balance: %+v", res)
	}
	if _, err := q.Enqueue(ctx, client.RetryJob{Workspace: "ws"}); err == nil {
		t.Fatal("enqueued a job without operation or payload")
	}
}

// TestRetryQueueSeveralPollers: several mavtops polling the same queue at once
// launch each due job exactly once.
func TestRetryQueueSeveralPollers(t *testing.T) {
	ctx := context.Background()
	rdb := newRedis(t)
	clock := newJumpClock()
	tr := client.NewMemoryTracker(false)
	tr.SetAllocation("ws", 10_000)
	seed := client.NewRetryQueue(rdb, client.WithQueueClock(clock))
	const jobs = 20
	for i := 0; i < jobs; i++ {
		if _, err := seed.Enqueue(ctx, client.RetryJob{Op: "persona", Workspace: "ws", Required: 360, Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	var launches atomic.Int64
	seen := sync.Map{}
	launch := func(_ context.Context, j client.RetryJob) error {
		launches.Add(1)
		if _, dup := seen.LoadOrStore(j.ID, true); dup {
			t.Errorf("job %s launched twice", j.ID)
		}
		time.Sleep(time.Millisecond)
		return nil
	}
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := client.NewRetryQueue(rdb, client.WithQueueClock(clock))
			for round := 0; round < 50; round++ {
				if _, err := q.Poll(ctx, tr, launch); err != nil {
					t.Error(err)
				}
				if left, _ := q.List(ctx); len(left) == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := launches.Load(); n != jobs {
		t.Fatalf("%d launches for %d jobs", n, jobs)
	}
	if left, _ := seed.List(ctx); len(left) != 0 {
		t.Fatalf("%d jobs left", len(left))
	}
}
