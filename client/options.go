package client

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// Option configures a Client (see New).
type Option func(*settings)

type settings struct {
	baseURL      string
	apiKey       string
	httpClient   *http.Client
	clock        Clock
	rng          *rand.Rand
	retry        RetryPolicy
	tracker      Tracker
	onTrackError func(error)
	balances     Balances
	scope        Scope
	caps         map[JobKind]int
	onSlots      func(Slots)
}

func defaultSettings() settings {
	return settings{
		baseURL:    DefaultBaseURL,
		httpClient: &http.Client{Timeout: 120 * time.Second},
		clock:      RealClock{},
		rng:        rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6d61767470)),
		caps:       DefaultCaps(),
	}
}

// WithBaseURL sets the API base URL (default DefaultBaseURL); the sandbox serves
// http://127.0.0.1:8787/api/v1.
func WithBaseURL(u string) Option { return func(s *settings) { s.baseURL = u } }

// WithAPIKey sets the Bearer key (mvra_live_…). The library never reads the
// environment; main passes MAVERA_API_KEY.
func WithAPIKey(key string) Option { return func(s *settings) { s.apiKey = key } }

// WithHTTPClient sets the HTTP client (default: a client with a 120 s timeout, since
// a Mave answer can take 90 s).
func WithHTTPClient(h *http.Client) Option {
	return func(s *settings) {
		if h != nil {
			s.httpClient = h
		}
	}
}

// WithClock sets the clock used for event times, retry waits and polling.
func WithClock(c Clock) Option {
	return func(s *settings) {
		if c != nil {
			s.clock = c
		}
	}
}

// WithRand sets the random source of retry jitter (seed it for repeatable tests).
func WithRand(r *rand.Rand) Option {
	return func(s *settings) {
		if r != nil {
			s.rng = r
		}
	}
}

// WithRetry sets the retry policy; zero fields keep their defaults.
func WithRetry(p RetryPolicy) Option { return func(s *settings) { s.retry = p } }

// WithTracker publishes every call's outcome to t (Pattern 1), attributed to
// workspace ws and project unless a view made with In says otherwise.
func WithTracker(t Tracker, ws, project string) Option {
	return func(s *settings) {
		s.tracker = t
		s.scope = Scope{Workspace: ws, Project: project}
	}
}

// WithTrackErrorHandler receives errors from the tracker. A tracking failure never
// fails the API call it describes (the credits are spent either way, and failing the
// call would invite a retry that spends them twice).
func WithTrackErrorHandler(f func(error)) Option { return func(s *settings) { s.onTrackError = f } }

// WithBalances sets where pre-flight checks read a workspace's remaining credits.
func WithBalances(b Balances) Option { return func(s *settings) { s.balances = b } }

// WithConcurrencyLimit sets how many jobs of kind may run at once (n ≤ 0 removes the cap).
func WithConcurrencyLimit(kind JobKind, n int) Option {
	return func(s *settings) {
		caps := make(map[JobKind]int, len(s.caps)+1)
		for k, v := range s.caps {
			caps[k] = v
		}
		caps[kind] = n
		s.caps = caps
	}
}

// WithConcurrencyHook is called whenever a kind's running or waiting count changes,
// so a screen can show launches waiting for a slot.
func WithConcurrencyHook(f func(Slots)) Option { return func(s *settings) { s.onSlots = f } }
