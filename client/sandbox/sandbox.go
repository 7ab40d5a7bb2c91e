package sandbox

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BasePath is where the API lives, as in https://app.mavera.io/api/v1.
const BasePath = "/api/v1"

// Config configures a Sandbox.
type Config struct {
	// Seed makes charges, durations and failures repeatable.
	Seed uint64
	// Plan is the plan of new accounts (default "professional").
	Plan string
	// Allocation is the monthly credits of new accounts (default: the plan's, 5,000).
	Allocation int64
	// RateLimit is the requests per minute per key of new accounts (default: the plan's, 240).
	RateLimit int
	// Now is the clock (default time.Now); jobs finish and rate windows slide on it.
	Now func() time.Time
	// OnRecharge is called, outside the sandbox's lock, whenever credits are added
	// to a pool (auto-recharge or AddCredits): ws is the workspace with its own pool,
	// or for the account's pool the workspace whose call triggered it.
	OnRecharge func(ws string, amount int64)
	// JobSpeed divides job durations (default 1; 10 makes a 60 s focus group take 6 s).
	JobSpeed float64
	// FailRate is the share of asynchronous jobs that fail (and are refunded); default 0.
	FailRate float64
	// PeriodStartDay is the day of the month (UTC) billing periods start on,
	// 1–28; 0 means 1, calendar months.
	PeriodStartDay int
	// UsageAtCreation makes a job show usage.credits_used (its charge) from its
	// creation answer on, as an API that says the charge at once would; the default
	// shows it only once the job finished (the fact sheet does not say which).
	UsageAtCreation bool
}

// Sandbox is the emulated API: an http.Handler serving BasePath. It is safe for
// concurrent use.
type Sandbox struct {
	cfg Config

	mu       sync.Mutex
	accounts map[string]*account
	revoked  map[string]bool
	faults   []*faultState
	seq      uint64
	rngs     map[string]*rand.Rand
	overs    map[string]*overshooter
	stats    map[string]int64
	mux      *http.ServeMux
}

// New returns a sandbox with no accounts yet; any well-formed key creates one.
func New(cfg Config) *Sandbox {
	if cfg.Plan == "" {
		cfg.Plan = DefaultPlan
	}
	if _, ok := Plans[cfg.Plan]; !ok {
		cfg.Plan = DefaultPlan
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.JobSpeed <= 0 {
		cfg.JobSpeed = 1
	}
	if cfg.PeriodStartDay < 1 || cfg.PeriodStartDay > 28 {
		cfg.PeriodStartDay = 1
	}
	s := &Sandbox{
		cfg:      cfg,
		accounts: map[string]*account{},
		revoked:  map[string]bool{},
		rngs:     map[string]*rand.Rand{},
		overs:    map[string]*overshooter{},
		stats:    map[string]int64{},
	}
	s.mux = s.routes()
	return s
}

// Now returns the sandbox clock's time.
func (s *Sandbox) Now() time.Time { return s.cfg.Now() }

// rng returns the random stream for one purpose (account, workspace, kind of draw).
// Separate streams keep one workspace's charges independent of how its calls
// interleave with other workspaces' calls. Called with s.mu held.
func (s *Sandbox) rng(parts ...string) *rand.Rand {
	key := strings.Join(parts, "|")
	r := s.rngs[key]
	if r == nil {
		h := fnv.New64a()
		h.Write([]byte(key))
		r = rand.New(rand.NewPCG(s.cfg.Seed, h.Sum64()))
		s.rngs[key] = r
	}
	return r
}

// overshoot reports whether the next charge of an account's priced operation
// lands above the upper bound (assumptions.go). Called with s.mu held.
func (s *Sandbox) overshoot(account, operation string) bool {
	key := account + "|" + operation
	o := s.overs[key]
	if o == nil {
		o = &overshooter{}
		s.overs[key] = o
	}
	return o.next(s.rng(account, operation, "overshoot"))
}

// newID returns a CUID-like id with a prefix ("clx", "resp_", "msg_"). Called with s.mu held.
func (s *Sandbox) newID(prefix string) string {
	s.seq++
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d", s.cfg.Seed, s.seq)
	return prefix + strconv.FormatUint(s.seq, 36) + strconv.FormatUint(h.Sum64(), 36)
}

// call is one request being handled.
type call struct {
	s         *Sandbox
	r         *http.Request
	a         *account
	now       time.Time
	body      []byte
	path      string // after BasePath
	wsHeader  string
	project   string
	reqID     string
	recharges []rechargeNote
}

// result is what a handler answers.
type result struct {
	status     int
	body       any
	retryAfter int
}

// ServeHTTP serves the API under BasePath.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// endpoint answers one call. Called with s.mu held.
type endpoint func(c *call) result

// routes maps every documented endpoint to its handler. A path the API does not
// have is a 404 in the API's error shape whatever the method, never the mux's
// plain-text 404 or 405: under BasePath after authentication and the rate limit,
// like any call (it is counted and may hit a fault), elsewhere at once.
func (s *Sandbox) routes() *http.ServeMux {
	mux := http.NewServeMux()
	api := func(pattern string, op endpoint) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+BasePath+path, s.handler(pattern, op))
	}
	job := func(kind string) endpoint {
		return func(c *call) result { return s.getJob(c, kind, c.r.PathValue("id")) }
	}
	api("POST /responses", s.createResponse)
	api("POST /mave/chat", s.maveChat)
	api("POST /focus-groups", s.createFocusGroup)
	api("GET /focus-groups/{id}", job(kindFocusGroup))
	api("POST /video-analyses", s.createVideo)
	api("GET /video-analyses", s.listVideos)
	api("GET /video-analyses/{id}", job(kindVideo))
	api("POST /brand-voices", s.createBrandVoice)
	api("GET /brand-voices/{id}", job(kindBrandVoice))
	api("POST /personas", s.createPersona)
	api("GET /personas", s.listPersonas)
	api("GET /usage", s.usage)
	api("GET /workspaces", s.listWorkspaces)
	api("GET /workspaces/{id}", func(c *call) result { return s.getWorkspace(c, c.r.PathValue("id")) })
	mux.Handle(BasePath+"/", s.handler("", func(c *call) result {
		return notFound("No such endpoint: " + c.r.Method + " " + clip(c.path, 100))
	}))
	outside := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody(typeNotFound, "resource_not_found", "No such path: "+clip(r.URL.Path, 100)+" (the API lives under "+BasePath+")", ""))
	})
	mux.Handle("/", outside)
	mux.Handle(BasePath, outside) // without it the mux would redirect to BasePath+"/"
	return mux
}

// handler wraps op in what every call goes through: authentication, the rate
// limit, faults, settling finished jobs and the request counts. tmpl names the
// call in Stats ("GET /focus-groups/{id}"); "" names it by its method and path.
func (s *Sandbox) handler(tmpl string, op endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, BasePath)
		name := tmpl
		if name == "" {
			name = r.Method + " " + clip(path, 100)
		}
		s.serve(w, r, path, name, op)
	})
}

// serve answers one call under BasePath; path is the part after BasePath.
func (s *Sandbox) serve(w http.ResponseWriter, r *http.Request, path, tmpl string, op endpoint) {
	key, authErr := bearer(r)
	if authErr != nil {
		writeJSON(w, http.StatusUnauthorized, authErr)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return
	}

	s.mu.Lock()
	if s.revoked[key] {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, errorBody("authentication_error", "revoked_api_key", "This API key has been revoked.", ""))
		return
	}
	now := s.cfg.Now()
	a := s.account(key, now)
	a.rollover(now)
	c := &call{s: s, r: r, a: a, now: now, body: body, path: path, reqID: s.newID("req_"),
		wsHeader: r.Header.Get(WorkspaceHeader), project: validID(r.Header.Get(ProjectHeader))}
	s.stats[tmpl]++
	fault := s.matchFault(r.Method, path)
	var res result
	switch {
	case fault != nil && !fault.AfterHandling:
		res = fault.result()
	default:
		if wait, limited := a.limit(now); limited {
			res = result{status: http.StatusTooManyRequests, retryAfter: wait,
				body: errorBody("rate_limit_error", "rate_limit_exceeded", fmt.Sprintf("Rate limit exceeded. Please retry after %d seconds.", wait), "")}
		} else {
			s.settle(a, now)
			res = op(c)
			a.requests++
			if res.status >= 400 {
				a.errors++
			}
			if fault != nil {
				res = fault.result()
			}
		}
	}
	limit, remaining, reset := a.rateHeaders(now)
	recharges := c.recharges
	s.mu.Unlock()

	for _, rc := range recharges {
		if s.cfg.OnRecharge != nil {
			s.cfg.OnRecharge(rc.ws, rc.amount)
		}
	}
	if fault != nil && fault.act(w, r) {
		return
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	h.Set(RequestIDHeader, c.reqID)
	if res.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(res.retryAfter))
	}
	if evs, ok := res.body.(sseBody); ok {
		writeSSE(w, res.status, evs)
		return
	}
	if raw, ok := res.body.(rawBody); ok {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(res.status)
		w.Write(raw)
		return
	}
	writeJSON(w, res.status, res.body)
}

// Stats returns how many authenticated requests the sandbox received per
// endpoint pattern ("POST /focus-groups", "GET /focus-groups/{id}"; a call to no
// endpoint under its method and path, "DELETE /focus-groups"), every account
// together, refused ones (rate limit, faults, 402) included.
func (s *Sandbox) Stats() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// decode reads the request body into v, answering 400 when it is not JSON.
func (c *call) decode(v any) *result {
	if len(c.body) == 0 {
		r := badRequest("missing_field", "A JSON request body is required.", "")
		return &r
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		r := badRequest("invalid_field", "The request body is not valid JSON: "+clip(err.Error(), 120), "")
		return &r
	}
	return nil
}

// workspace resolves the workspace of the call: the body's workspace_id, the
// header, or the default (assumptions.go), creating it on first use.
func (c *call) workspace(bodyID string) (*workspace, *result) {
	id := bodyID
	if id == "" {
		id = c.wsHeader
	}
	if id == "" {
		id = DefaultWorkspaceID
	}
	if validID(id) == "" {
		r := badRequest("invalid_field", "workspace_id must be 1–64 of [A-Za-z0-9._:-].", "workspace_id")
		return nil, &r
	}
	return c.a.workspace(id, c.now), nil
}

// validID returns s when it is 1–64 of [A-Za-z0-9._:-], else "".
func validID(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == ':' || ch == '-') {
			return ""
		}
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
