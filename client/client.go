package client

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"mavtop/internal/backoff"
	"mavtop/model"
)

// DefaultBaseURL is the Mavera API's base URL.
const DefaultBaseURL = "https://app.mavera.io/api/v1"

// Client calls the Mavera API. It is safe for concurrent use. In returns views of the
// same client for other workspaces and projects; they share the HTTP transport, the
// rate-limit record, the concurrency caps and the tracker.
type Client struct {
	sh    *shared
	scope Scope
	// unchecked skips the pre-flight check (WithoutPreflight).
	unchecked bool
}

// Scope attributes calls to a workspace and a project for tracking, pre-flight and
// the sandbox. Workspace is the id the usage stream uses (1–64 of [A-Za-z0-9._:-]);
// it is not the API's workspace_id field, which requests carry themselves.
type Scope struct {
	// Workspace is the workspace id ("acme-prod"); empty means DefaultWorkspace.
	Workspace string
	// Project is the project id inside it; may be empty.
	Project string
}

// shared is the state every view of a Client shares.
type shared struct {
	base         string
	key          string
	red          redactor
	http         *http.Client
	clock        Clock
	retry        RetryPolicy
	tracker      Tracker
	onTrackError func(error)
	balances     Balances

	// backoff spaces the retries after 5xx and connection errors and jitters
	// Retry-After waits, from the seeded source WithRand gives.
	backoff *backoff.Backoff

	rate    rateState
	slots   *slotSet
	pending pendingJobs
	// quiet is held (read) by every creation from its request to its tracking
	// and by every job's tracking; Quiesce takes it whole (see there).
	quiet sync.RWMutex
}

// New returns a client configured by opts. Without WithAPIKey every call fails with
// ErrNoAPIKey before sending anything.
func New(opts ...Option) (*Client, error) {
	s := defaultSettings()
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	base := strings.TrimRight(s.baseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q is not an http(s) URL", s.baseURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("client: base URL must not hold credentials")
	}
	if s.scope.Workspace != "" && !model.IsID(s.scope.Workspace) {
		return nil, fmt.Errorf("client: workspace %q is not 1–64 of [A-Za-z0-9._:-]", s.scope.Workspace)
	}
	retry := s.retry.withDefaults()
	sh := &shared{
		base:         base,
		key:          s.apiKey,
		red:          redactor{key: s.apiKey},
		http:         s.httpClient,
		clock:        s.clock,
		retry:        retry,
		tracker:      s.tracker,
		onTrackError: s.onTrackError,
		balances:     s.balances,
		backoff:      &backoff.Backoff{Min: retry.BaseDelay, Max: retry.MaxDelay, Rand: s.rng},
		slots:        newSlotSet(s.caps, s.onSlots),
	}
	sh.pending.jobs = make(map[string]pendingJob)
	return &Client{sh: sh, scope: s.scope}, nil
}

// In returns a view of c whose calls are attributed to workspace ws and project
// (project may be empty). It shares everything else with c.
func (c *Client) In(ws, project string) *Client {
	return &Client{sh: c.sh, scope: Scope{Workspace: ws, Project: project}, unchecked: c.unchecked}
}

// WithoutPreflight returns a view of c whose launches skip the balance check (they
// are still priced, so the estimate travels with the event, and still respect the
// concurrency caps): for jobs that must run regardless, or to show what an
// application without pre-flight runs into.
func (c *Client) WithoutPreflight() *Client {
	return &Client{sh: c.sh, scope: c.scope, unchecked: true}
}

// Scope returns the workspace and project c's calls are attributed to.
func (c *Client) Scope() Scope { return c.scope }

// BaseURL returns the API base URL the client calls.
func (c *Client) BaseURL() string { return c.sh.base }

// HasAPIKey reports whether the client was given an API key.
func (c *Client) HasAPIKey() bool { return c.sh.key != "" }

// Clock returns the client's clock.
func (c *Client) Clock() Clock { return c.sh.clock }
