package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/estimator"
)

// RetryJob is a launch refused for want of credits, kept in Redis until credits are
// added (Pattern 6, option B). It holds everything needed to launch it again.
type RetryJob struct {
	// ID is the queue's id for the job (set by Enqueue).
	ID string `json:"id"`
	// Op is the estimator operation ("focus-group", "mave-complex", …).
	Op string `json:"op"`
	// Params are the estimator parameters (sample size, questions, seconds).
	Params estimator.Params `json:"params,omitzero"`
	// Workspace is the workspace the job belongs to (the balance Poll checks).
	Workspace string `json:"ws"`
	// Project is the job's project, if any.
	Project string `json:"project,omitempty"`
	// Endpoint is the API path ("/focus-groups").
	Endpoint string `json:"endpoint"`
	// Estimate is the upper-bound estimate.
	Estimate int64 `json:"estimate"`
	// Required is Estimate plus the 20 % buffer: the balance a retry needs.
	Required int64 `json:"required"`
	// Payload is the request body, as JSON.
	Payload json.RawMessage `json:"payload"`
	// EnqueuedAt is when the job was queued.
	EnqueuedAt time.Time `json:"enqueued_at"`
	// Attempts counts the queue's retries so far.
	Attempts int `json:"attempts"`
	// LastTriedRemaining is the workspace's remaining credits when the job was last
	// tried (or refused); it is retried only once remaining rises above it.
	LastTriedRemaining int64 `json:"last_tried_remaining"`
	// LastTriedAt is when the queue last tried it.
	LastTriedAt time.Time `json:"last_tried_at,omitzero"`
	// LastError is the message of the last refusal or failure.
	LastError string `json:"last_error,omitempty"`
	// LastCode is the last refusal's code (credits_exhausted, budget_exceeded,
	// insufficient_credits); empty after a failure that was not a refusal.
	LastCode string `json:"last_code,omitempty"`
	// NotBefore holds a job back after a failure that was not a refusal.
	NotBefore time.Time `json:"not_before,omitzero"`
	// LeaseUntil is when the claim of the mavtop trying the job runs out.
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// LeaseOwner is that claim's token; empty when nobody is trying the job.
	LeaseOwner string `json:"lease_owner,omitempty"`
}

// RetryQueue keeps refused jobs in one Redis hash (default key "{mavera}:retry",
// field = job id, value = the job as JSON), so it survives restarts and is shared
// by every mavtop on the same Redis.
//
// Poll retries a job when its workspace's remaining credits have risen above both
// the job's Required credits and the remaining at which it was last tried: at most
// once per rise. Several mavtops may poll at once: a job is claimed with an atomic
// compare-and-set (a Lua script on the one key, so Redis Cluster is fine) before it
// is launched, and the claim is a lease, so a mavtop that dies mid-launch does not
// strand it (another retries it once the lease ends).
type RetryQueue struct {
	rdb   redis.UniversalClient
	key   string
	clock Clock
	// lease is how long a claim reserves a job: 15 minutes, since a video
	// analysis can run 10.
	lease time.Duration
	// backoff is the fixed wait after a failure that was not a refusal
	// (WithFailureBackoff).
	backoff time.Duration
}

// QueueOption configures a RetryQueue.
type QueueOption func(*RetryQueue)

// WithQueuePrefix sets the key prefix (default "{mavera}", the hash tag that keeps
// every mavtop key in one Redis Cluster slot); the key is prefix + ":retry".
func WithQueuePrefix(prefix string) QueueOption {
	return func(q *RetryQueue) { q.key = prefix + ":retry" }
}

// WithQueueClock sets the queue's clock.
func WithQueueClock(c Clock) QueueOption { return func(q *RetryQueue) { q.clock = c } }

// WithFailureBackoff sets how long a job waits after a failure that was not a
// refusal (5xx, connection error) before it is tried again (default 1 minute).
func WithFailureBackoff(d time.Duration) QueueOption { return func(q *RetryQueue) { q.backoff = d } }

// NewRetryQueue returns a queue on rdb.
func NewRetryQueue(rdb redis.UniversalClient, opts ...QueueOption) *RetryQueue {
	q := &RetryQueue{rdb: rdb, key: "{mavera}:retry", clock: RealClock{}, lease: 15 * time.Minute, backoff: time.Minute}
	for _, o := range opts {
		o(q)
	}
	return q
}

// Key returns the Redis key of the queue.
func (q *RetryQueue) Key() string { return q.key }

// Enqueue stores job and returns it with its id and time set.
func (q *RetryQueue) Enqueue(ctx context.Context, job RetryJob) (RetryJob, error) {
	if job.Op == "" || job.Workspace == "" || len(job.Payload) == 0 {
		return RetryJob{}, errors.New("retry queue: a job needs an operation, a workspace and a payload")
	}
	if job.ID == "" {
		job.ID = "rj_" + randomHex(8)
	}
	if job.EnqueuedAt.IsZero() {
		job.EnqueuedAt = q.clock.Now().UTC()
	}
	job.LeaseOwner, job.LeaseUntil = "", time.Time{}
	raw, err := json.Marshal(job)
	if err != nil {
		return RetryJob{}, fmt.Errorf("retry queue: encode job: %w", err)
	}
	ok, err := q.rdb.HSetNX(ctx, q.key, job.ID, raw).Result()
	if err != nil {
		return RetryJob{}, fmt.Errorf("retry queue: enqueue: %w", err)
	}
	if !ok {
		return RetryJob{}, fmt.Errorf("retry queue: job %s is already queued", job.ID)
	}
	return job, nil
}

// List returns the queued jobs, oldest first.
func (q *RetryQueue) List(ctx context.Context) ([]RetryJob, error) {
	all, err := q.rdb.HGetAll(ctx, q.key).Result()
	if err != nil {
		return nil, fmt.Errorf("retry queue: list: %w", err)
	}
	jobs := make([]RetryJob, 0, len(all))
	for id, raw := range all {
		var j RetryJob
		if err := json.Unmarshal([]byte(raw), &j); err != nil {
			return nil, fmt.Errorf("retry queue: job %s: %w", id, err)
		}
		jobs = append(jobs, j)
	}
	sort.Slice(jobs, func(a, b int) bool {
		if !jobs[a].EnqueuedAt.Equal(jobs[b].EnqueuedAt) {
			return jobs[a].EnqueuedAt.Before(jobs[b].EnqueuedAt)
		}
		return jobs[a].ID < jobs[b].ID
	})
	return jobs, nil
}

// Remove deletes a job; it reports whether the job was there.
func (q *RetryQueue) Remove(ctx context.Context, id string) (bool, error) {
	n, err := q.rdb.HDel(ctx, q.key, id).Result()
	if err != nil {
		return false, fmt.Errorf("retry queue: remove %s: %w", id, err)
	}
	return n > 0, nil
}

// PollOutcome says what Poll did with one job.
type PollOutcome string

// The outcomes of a job in one Poll.
const (
	// PollSucceeded: launched; removed from the queue.
	PollSucceeded PollOutcome = "succeeded"
	// PollRefused: refused again (402 or pre-flight); kept until the next rise.
	PollRefused PollOutcome = "refused"
	// PollFailed: another error; kept, retried after the failure backoff.
	PollFailed PollOutcome = "failed"
)

// PollResult is one job Poll tried.
type PollResult struct {
	// Job is the job as claimed (Attempts already counts this try).
	Job RetryJob
	// Remaining is the workspace's balance it was tried at.
	Remaining int64
	// Outcome says what happened; Err is the launch's error, if any.
	Outcome PollOutcome
	Err     error
}

// Poll tries every queued job whose workspace's remaining credits (from b) have
// risen above the job's Required credits and above the remaining at which it was
// last tried, calling launch for each (Client.Relaunch fits). It returns what it
// tried; jobs not yet affordable, held by another mavtop, or in workspaces without a
// known balance are left alone.
func (q *RetryQueue) Poll(ctx context.Context, b Balances, launch func(context.Context, RetryJob) error) ([]PollResult, error) {
	jobs, err := q.List(ctx)
	if err != nil {
		return nil, err
	}
	type balance struct {
		remaining int64
		known     bool
	}
	balances := map[string]balance{}
	var results []PollResult
	for _, j := range jobs {
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		bal, ok := balances[j.Workspace]
		if !ok {
			r, known, err := b.Remaining(ctx, j.Workspace)
			if err != nil {
				return results, fmt.Errorf("retry queue: remaining credits of %s: %w", j.Workspace, err)
			}
			bal = balance{r, known}
			balances[j.Workspace] = bal
		}
		if !bal.known || !q.due(j, bal.remaining) {
			continue
		}
		claimed, prevTried, token, err := q.claim(ctx, j.ID, bal.remaining)
		if err != nil {
			return results, err
		}
		if claimed == nil {
			continue
		}
		lerr := launch(ctx, *claimed)
		res := PollResult{Job: *claimed, Remaining: bal.remaining, Err: lerr}
		switch {
		case lerr == nil:
			res.Outcome = PollSucceeded
		case IsPaymentRequired(lerr) || IsInsufficientCredits(lerr):
			res.Outcome = PollRefused
		default:
			res.Outcome = PollFailed
		}
		if err := q.finish(ctx, j.ID, token, prevTried, res); err != nil {
			return append(results, res), err
		}
		results = append(results, res)
	}
	return results, nil
}

// due reports whether j may be tried at this remaining balance: the rule of
// estimator.Waiting, which the dashboard's queue list explains.
func (q *RetryQueue) due(j RetryJob, remaining int64) bool {
	return j.Waiting().State(remaining, true, q.clock.Now()).Due
}

// Waiting is what decides when j is tried again.
func (j RetryJob) Waiting() estimator.Waiting {
	return estimator.Waiting{Required: j.Required, LastTriedRemaining: j.LastTriedRemaining,
		NotBefore: j.NotBefore, LeaseUntil: j.LeaseUntil, Leased: j.LeaseOwner != "",
		Attempts: j.Attempts, LastError: j.LastError}
}

// casSet replaces a hash field's value only if it still holds the value read
// (compare-and-set), so that two mavtops cannot both claim or settle one job; jobs
// other than the one being changed are not in the way, unlike with WATCH on the hash.
var casSet = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0`)

// casDel deletes a hash field only if it still holds the value read.
var casDel = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0`)

// update reads job id, lets change decide its new value (nil: delete; ok false:
// leave it), and writes it back with compare-and-set, retrying when another writer
// got there in between. It reports whether the change was written.
func (q *RetryQueue) update(ctx context.Context, id string, change func(*RetryJob) (keep *RetryJob, ok bool)) (bool, error) {
	for attempt := 0; attempt < 20; attempt++ {
		raw, err := q.rdb.HGet(ctx, q.key, id).Result()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		var j RetryJob
		if err := json.Unmarshal([]byte(raw), &j); err != nil {
			return false, fmt.Errorf("job %s: %w", id, err)
		}
		keep, ok := change(&j)
		if !ok {
			return false, nil
		}
		var n int64
		if keep == nil {
			n, err = casDel.Run(ctx, q.rdb, []string{q.key}, id, raw).Int64()
		} else {
			enc, merr := json.Marshal(keep)
			if merr != nil {
				return false, merr
			}
			n, err = casSet.Run(ctx, q.rdb, []string{q.key}, id, raw, enc).Int64()
		}
		if err != nil {
			return false, err
		}
		if n == 1 {
			return true, nil
		}
	}
	return false, fmt.Errorf("job %s: too much contention", id)
}

// claim atomically marks job id as being tried at remaining. It returns nil when
// the job is gone or no longer due (another mavtop took it).
func (q *RetryQueue) claim(ctx context.Context, id string, remaining int64) (*RetryJob, int64, string, error) {
	token := randomHex(8)
	var claimed RetryJob
	var prevTried int64
	ok, err := q.update(ctx, id, func(j *RetryJob) (*RetryJob, bool) {
		if !q.due(*j, remaining) {
			return nil, false
		}
		prevTried = j.LastTriedRemaining
		now := q.clock.Now().UTC()
		j.Attempts++
		j.LastTriedRemaining = remaining
		j.LastTriedAt = now
		j.LeaseOwner, j.LeaseUntil = token, now.Add(q.lease)
		claimed = *j
		return j, true
	})
	if err != nil {
		return nil, 0, "", fmt.Errorf("retry queue: claim %s: %w", id, err)
	}
	if !ok {
		return nil, 0, "", nil
	}
	return &claimed, prevTried, token, nil
}

// finish records a tried job's outcome, unless its lease was lost to another mavtop.
func (q *RetryQueue) finish(ctx context.Context, id, token string, prevTried int64, res PollResult) error {
	_, err := q.update(ctx, id, func(j *RetryJob) (*RetryJob, bool) {
		if j.LeaseOwner != token {
			return nil, false
		}
		j.LeaseOwner, j.LeaseUntil = "", time.Time{}
		switch res.Outcome {
		case PollSucceeded:
			return nil, true
		case PollRefused:
			j.LastError, j.LastCode = res.Err.Error(), refusalCode(res.Err)
		default:
			// Not a verdict on the credits: try again after the backoff, without
			// waiting for another rise.
			j.LastError, j.LastCode = res.Err.Error(), ""
			j.LastTriedRemaining = prevTried
			j.NotBefore = q.clock.Now().UTC().Add(q.backoff)
		}
		return j, true
	})
	if err != nil {
		return fmt.Errorf("retry queue: record outcome of %s: %w", id, err)
	}
	return nil
}

func refusalCode(err error) string {
	if ae, ok := AsAPIError(err); ok {
		return ae.Code
	}
	if IsInsufficientCredits(err) {
		return "insufficient_credits"
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
