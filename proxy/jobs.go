package proxy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"mavtop/client"
	"mavtop/model"
)

// Asynchronous jobs (focus groups, video analyses, brand voices) are created by a
// POST and finished minutes later; the API does not say when it charges them. The
// proxy records each job created through it exactly once:
//
//   - when the creation answer carries the charge (usage.credits_used or
//     credits_charged), at creation, like any call; the job is not followed, and
//     polls of it record nothing more;
//   - else when the job is first seen finished, with the finished object's
//     usage.credits_used (0 and the code "job_failed" for a failed one): by a GET
//     of it through the proxy, or, when the application polls the API directly or
//     never polls, by the proxy itself: a job nobody polled through the proxy for
//     JobPoll (30 s) is polled upstream with the creating request's key and
//     attribution (held in memory only, never logged or written). A job taken by
//     one of these is gone for the others, so it is never counted twice;
//   - a job the proxy cannot follow to its end (upstream says 404, not seen
//     finished within 24 h, e.g. with JobPoll off and no poll through the proxy,
//     more than 100,000 pending, or the proxy stopping) is recorded with its creation status, 0 credits and the code
//     "job_untracked", whose message says the charge is unknown: the operator sees
//     it in the log, and reconciliation with GET /usage settles it.

// DefaultJobPoll is how long a pending job may go unseen before the proxy polls it.
const DefaultJobPoll = 30 * time.Second

// CodeJobUntracked is the code of a job whose charge the proxy could not learn.
const CodeJobUntracked = "job_untracked"

// maxJobs bounds the jobs remembered between creation and completion; jobsTTL is
// how long one is followed.
const (
	maxJobs = 100_000
	jobsTTL = 24 * time.Hour
)

// pendingJob is a job created through the proxy whose charge is not tracked yet.
type pendingJob struct {
	ws, project, endpoint, op string
	est                       int64
	status                    int
	// auth is the Authorization sent upstream at creation, for the proxy's own polls.
	auth    string
	created time.Time
	// seen is when the job was last seen unfinished (creation, a poll through the
	// proxy or the proxy's own); polling is set while the proxy polls it.
	seen    time.Time
	polling bool
}

// jobs remembers created jobs by "/focus-groups/<id>" until their outcome is
// published, so each is published once however often and by whom it is polled.
type jobs struct {
	mu sync.Mutex
	m  map[string]*pendingJob
}

// addJob starts following a created job; one that cannot be followed is recorded
// as untracked at once.
func (p *Proxy) addJob(key string, pj *pendingJob) {
	if !model.IsID(key[strings.LastIndexByte(key, '/')+1:]) {
		return
	}
	pj.seen = pj.created
	p.jobs.mu.Lock()
	full := len(p.jobs.m) >= maxJobs
	if !full {
		p.jobs.m[key] = pj
	}
	p.jobs.mu.Unlock()
	if full {
		p.untracked(key, pj, "more than 100,000 jobs were pending")
	}
}

// take removes the job of key; ok is false when it is not pending (any more).
func (j *jobs) take(key string) (*pendingJob, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	pj, ok := j.m[key]
	delete(j.m, key)
	return pj, ok
}

// saw notes that the job of key was seen unfinished at now.
func (j *jobs) saw(key string, now time.Time) {
	j.mu.Lock()
	if pj, ok := j.m[key]; ok {
		pj.seen = now
	}
	j.mu.Unlock()
}

// PendingJobs returns how many created jobs await their completion to be tracked.
func (p *Proxy) PendingJobs() int {
	p.jobs.mu.Lock()
	defer p.jobs.mu.Unlock()
	return len(p.jobs.m)
}

// observeJob reads a job object a GET through the proxy returned: a finished job
// created through this proxy is published, an unfinished one marked seen.
func (p *Proxy) observeJob(x *exchange, js *jsonScan) {
	if x.status != http.StatusOK {
		return
	}
	p.jobState(strings.TrimSuffix(x.rel, "/"), js)
}

// jobState acts on a job object read for key.
func (p *Proxy) jobState(key string, js *jsonScan) {
	js.finish()
	failed, final := finalStatus(js.str("status"))
	if !final {
		p.jobs.saw(key, time.Now())
		return
	}
	j, ok := p.jobs.take(key)
	if !ok {
		return
	}
	credits, _ := js.credits()
	o := j.outcome(key)
	o.Credits = credits
	if failed {
		_, msg := js.apiError()
		o.Code, o.Msg = "job_failed", msg
	}
	p.track(o, j.auth)
}

func (j *pendingJob) outcome(key string) client.Outcome {
	return client.Outcome{Workspace: j.ws, Project: j.project, Endpoint: j.endpoint, Status: j.status,
		Req: key[strings.LastIndexByte(key, '/')+1:], Op: j.op, Est: j.est}
}

// untracked records a job whose charge will not be learnt.
func (p *Proxy) untracked(key string, j *pendingJob, why string) {
	p.log.Warn("job recorded with its charge unknown", "job", key, "ws", j.ws, "why", why)
	o := j.outcome(key)
	o.Code = CodeJobUntracked
	o.Msg = "the proxy could not learn what this job was charged (" + why + "); reconcile with GET /usage"
	p.track(o, j.auth)
}

// Run follows the pending jobs until ctx ends (see the rules above), then records
// those still pending as untracked. Run it once, beside the server.
func (p *Proxy) Run(ctx context.Context) {
	every := p.cfg.JobPoll
	if every < 0 {
		every = time.Minute // only the expiry sweep
	}
	t := time.NewTicker(max(every/4, 10*time.Millisecond))
	defer t.Stop()
	sem := make(chan struct{}, 4) // polls at once
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			p.jobs.mu.Lock()
			left := p.jobs.m
			p.jobs.m = map[string]*pendingJob{}
			p.jobs.mu.Unlock()
			for key, j := range left {
				p.untracked(key, j, "the proxy stopped before the job finished")
			}
			return
		case <-t.C:
		}
		now := time.Now()
		var due []string
		var expired []string
		p.jobs.mu.Lock()
		for key, j := range p.jobs.m {
			switch {
			case now.Sub(j.created) > jobsTTL:
				expired = append(expired, key)
			case p.cfg.JobPoll > 0 && !j.polling && now.Sub(j.seen) >= p.cfg.JobPoll:
				j.polling = true
				due = append(due, key)
			}
		}
		p.jobs.mu.Unlock()
		for _, key := range expired {
			if j, ok := p.jobs.take(key); ok {
				why := "not seen finished within 24 h"
				if p.cfg.JobPoll < 0 {
					why += "; the proxy's own polls are off"
				}
				p.untracked(key, j, why)
			}
		}
		for _, key := range due {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				p.pollJob(ctx, key)
			}()
		}
	}
}

// pollJob asks upstream for the job of key, as its creator would.
func (p *Proxy) pollJob(ctx context.Context, key string) {
	p.jobs.mu.Lock()
	j := p.jobs.m[key]
	var auth, ws, project string
	if j != nil {
		auth, ws, project = j.auth, j.ws, j.project
	}
	p.jobs.mu.Unlock()
	if j == nil {
		return
	}
	defer func() {
		p.jobs.mu.Lock()
		j.polling = false
		p.jobs.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.UpstreamTimeout)
	defer cancel()
	u := *p.up
	u.Path, u.RawPath, u.RawQuery = p.base+key, "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set(upstreamWorkspace, ws)
	if project != "" {
		req.Header.Set(upstreamProject, project)
	}
	p.m.jobPolls.Inc()
	resp, err := p.cfg.Transport.RoundTrip(req)
	if err != nil {
		p.log.Warn("job poll failed; retried later", "job", key, "err", err)
		return
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		js := &jsonScan{}
		buf := make([]byte, 32<<10)
		for r := io.LimitReader(resp.Body, 16<<20); ; {
			n, err := r.Read(buf)
			js.feed(buf[:n])
			if err != nil {
				break
			}
		}
		p.jobState(key, js)
	case http.StatusNotFound:
		if j, ok := p.jobs.take(key); ok {
			p.untracked(key, j, "the API no longer knows the job (404)")
		}
	default: // 429, 5xx: seen now, tried again after JobPoll
		p.jobs.saw(key, time.Now())
	}
}
