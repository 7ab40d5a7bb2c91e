package sandbox

import (
	"fmt"
	"net/http"
	"time"
)

// Job kinds (also the API's object names).
const (
	kindFocusGroup = "focus_group"
	kindVideo      = "video_analysis"
	kindBrandVoice = "brand_voice"
)

// job is an asynchronous job: charged at creation, finished at done (assumptions.go).
type job struct {
	id, kind string
	ws       *workspace
	pool     *pool
	project  string
	endpoint string
	charge   int64
	created  time.Time
	done     time.Time
	fails    bool
	settled  bool
	// early: the job shows its charge from creation on (Config.UsageAtCreation).
	early bool

	fg      *FocusGroupRequest
	video   *videoRequest
	seconds int
	voice   *brandVoiceRequest
}

// status returns the job's status at now.
func (j *job) status(now time.Time) string {
	run := j.done.Sub(j.created)
	switch {
	case now.Before(j.created.Add(time.Duration(float64(run) * PendingShare))):
		return "pending"
	case now.Before(j.done):
		return "generating"
	case j.fails:
		return "failed"
	}
	return "completed"
}

// progress returns the share of the run done at now, 0–1.
func (j *job) progress(now time.Time) float64 {
	run := j.done.Sub(j.created)
	if run <= 0 || !now.Before(j.done) {
		return 1
	}
	return max(0, float64(now.Sub(j.created))/float64(run))
}

// usage is the usage object of a finished job: the charge, or 0 once refunded.
func (j *job) usage(now time.Time) *creditsUsed {
	switch j.status(now) {
	case "completed":
		return &creditsUsed{CreditsUsed: j.charge}
	case "failed":
		return &creditsUsed{CreditsUsed: 0}
	}
	if j.early {
		return &creditsUsed{CreditsUsed: j.charge}
	}
	return nil
}

// settle finishes the jobs whose time has come, refunding failed ones. Called with s.mu held.
func (s *Sandbox) settle(a *account, now time.Time) {
	keep := a.running[:0]
	for _, j := range a.running {
		if now.Before(j.done) {
			keep = append(keep, j)
			continue
		}
		j.settled = true
		if j.fails {
			a.refund(j)
		}
	}
	for i := len(keep); i < len(a.running); i++ {
		a.running[i] = nil
	}
	a.running = keep
}

// capped answers 429 when kind's concurrency cap is reached (assumptions.go).
func (s *Sandbox) capped(c *call, kind string) *result {
	limit, ok := jobCaps[kind]
	if !ok {
		return nil
	}
	n := 0
	var first time.Time
	for _, j := range c.a.running {
		if j.kind == kind {
			n++
			if first.IsZero() || j.done.Before(first) {
				first = j.done
			}
		}
	}
	if n < limit {
		return nil
	}
	wait := int((first.Sub(c.now) + time.Second - 1) / time.Second)
	wait = max(wait, 1)
	r := result{status: http.StatusTooManyRequests, retryAfter: wait, body: errorBody("rate_limit_error", "concurrency_limit_exceeded",
		fmt.Sprintf("At most %d %s jobs may run at once. Please retry after %d seconds.", limit, kind, wait), "")}
	return &r
}

// startJob charges and registers a job. Called with s.mu held.
func (s *Sandbox) startJob(c *call, w *workspace, kind, endpoint string, charge int64, seconds int) (*job, *result) {
	if r := s.capped(c, kind); r != nil {
		return nil, r
	}
	pl, refused := c.charge(w, endpoint, charge)
	if refused != nil {
		return nil, refused
	}
	r := s.rng(c.a.id, w.id, endpoint, "duration")
	d := time.Duration(float64(jobDuration(kind, r, seconds)) / s.cfg.JobSpeed)
	j := &job{
		id: s.newID("clx"), kind: kind, ws: w, pool: pl, project: c.project, endpoint: endpoint,
		charge: charge, created: c.now, done: c.now.Add(d), seconds: seconds,
		fails: s.cfg.FailRate > 0 && s.rng(c.a.id, w.id, endpoint, "fail").Float64() < s.cfg.FailRate,
		early: s.cfg.UsageAtCreation,
	}
	c.a.jobs[j.id] = j
	c.a.jobOrder = append(c.a.jobOrder, j.id)
	c.a.running = append(c.a.running, j)
	return j, nil
}

// getJob is GET /focus-groups/{id}, /video-analyses/{id}, /brand-voices/{id}.
func (s *Sandbox) getJob(c *call, kind, id string) result {
	j := c.a.jobs[id]
	if j == nil || j.kind != kind {
		return notFound(fmt.Sprintf("No %s with id %s.", kind, clip(id, 64)))
	}
	return result{status: http.StatusOK, body: s.render(j, c.now)}
}

func (s *Sandbox) render(j *job, now time.Time) any {
	switch j.kind {
	case kindFocusGroup:
		return focusGroupView(j, now)
	case kindVideo:
		return videoView(j, now)
	}
	return brandVoiceView(j, now)
}

// createFocusGroup is POST /focus-groups (shape assumed, see assumptions.go).
func (s *Sandbox) createFocusGroup(c *call) result {
	var req FocusGroupRequest
	if r := c.decode(&req); r != nil {
		return *r
	}
	switch {
	case req.WorkspaceID == "":
		return badRequest("missing_field", "workspace_id is required.", "workspace_id")
	case req.SampleSize < 1 || req.SampleSize > 10_000:
		return badRequest("invalid_field", "sample_size must be between 1 and 10000.", "sample_size")
	case len(req.Questions) == 0 || len(req.Questions) > 100:
		return badRequest("invalid_field", "questions must hold 1 to 100 questions.", "questions")
	}
	for i, q := range req.Questions {
		if q.Text == "" {
			return badRequest("missing_field", fmt.Sprintf("questions[%d].text is required.", i), fmt.Sprintf("questions[%d].text", i))
		}
	}
	w, bad := c.workspace(req.WorkspaceID)
	if bad != nil {
		return *bad
	}
	price := focusGroupPrice(req.SampleSize, len(req.Questions), s.overshoot(c.a.id, "focus-group"), s.rng(c.a.id, w.id, "/focus-groups"))
	j, refused := s.startJob(c, w, kindFocusGroup, "/focus-groups", price, 0)
	if refused != nil {
		return *refused
	}
	j.fg = &req
	return result{status: http.StatusCreated, body: focusGroupView(j, c.now)}
}

func focusGroupView(j *job, now time.Time) focusGroupObject {
	st := j.status(now)
	o := focusGroupObject{
		ID: j.id, Object: "focus_group", Name: j.fg.Name, WorkspaceID: j.ws.id, Status: st,
		SampleSize: j.fg.SampleSize, PersonaIDs: j.fg.PersonaIDs, Questions: j.fg.Questions, Stimulus: j.fg.Stimulus,
		Progress:  progress{Total: j.fg.SampleSize, Completed: int(float64(j.fg.SampleSize) * j.progress(now))},
		Usage:     j.usage(now),
		CreatedAt: j.created.Unix(), UpdatedAt: earlier(now, j.done).Unix(),
	}
	if o.PersonaIDs == nil {
		o.PersonaIDs = []string{}
	}
	switch st {
	case "completed":
		o.Results = map[string]any{"summary": "Sandbox focus group summary.", "responses": j.fg.SampleSize, "nps": 32}
	case "failed":
		msg := "The focus group could not be completed (sandbox failure)."
		o.Error = &msg
	}
	return o
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
