// Package notifytest holds what the alert delivery tests of notify and cmd
// share: a workspace's settings and usage written to a real redis-server as a
// producer writes them, the wait for the store's deliveries to settle, and a
// local webhook receiver that counts what it takes by idempotency key. It
// imports neither notify nor cmd, so both packages' tests can use it.
package notifytest

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// Usage writes settings and usage events to Redis under the default prefix.
type Usage struct {
	t        testing.TB
	settings *feed.SettingsStore
	pub      *feed.Publisher
	now      func() time.Time
}

// NewUsage returns a Usage writing through c.
func NewUsage(t testing.TB, c redis.UniversalClient) *Usage {
	return &Usage{t: t, settings: feed.NewSettingsStore(c, feed.StoreOptions{}), pub: feed.NewPublisher(c, feed.PublisherOptions{}), now: time.Now}
}

// NewUsageAt is NewUsage for a test whose clock is not Redis's: its entries
// are dated by now, ts and stream id (ids, shared with the test's other
// writers of the stream: feed.ClockIDs).
func NewUsageAt(t testing.TB, c redis.UniversalClient, now func() time.Time, ids *feed.ClockIDs) *Usage {
	return &Usage{t: t, settings: feed.NewSettingsStore(c, feed.StoreOptions{Now: now, IDs: ids}),
		pub: feed.NewPublisher(c, feed.PublisherOptions{Now: now, IDs: ids}), now: now}
}

// Set stores a workspace's settings (its allocation, limits, thresholds);
// an error fails the test.
func (u *Usage) Set(ws string, st model.Settings) {
	u.t.Helper()
	if err := u.settings.SetWorkspace(context.Background(), ws, st); err != nil {
		u.t.Fatal(err)
	}
}

// MidPeriod stores the billing-period rule that puts now about half-way
// through its period (model.MidPeriod) and returns it; an error fails the
// test. A test that judges a run-out or a pace against the time left, or
// moves its clock an hour around now, needs that time inside one period:
// under the default (calendar months, UTC) a run in a month's last minutes
// leaves none to run out in, and one in its first hour puts the hour before
// now in the previous period.
func (u *Usage) MidPeriod() model.PeriodRule {
	u.t.Helper()
	cfg := model.MidPeriod(time.Now())
	if err := u.settings.SetPeriod(context.Background(), cfg); err != nil {
		u.t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		u.t.Fatal(err)
	}
	return rule
}

// Spend records a successful call of ws costing credits, now; an error
// fails the test.
func (u *Usage) Spend(ws string, credits int64) {
	u.t.Helper()
	if err := u.pub.Track(context.Background(), model.Event{TS: u.now().UnixMilli(), Workspace: ws, Endpoint: "/responses",
		Credits: credits, Status: 200}); err != nil {
		u.t.Fatal(err)
	}
}

// ThresholdID is the id of ws's alert at threshold percent th (its
// allocation's, no project), in period.
func ThresholdID(period, ws, th string) string {
	return model.AlertID(period, ws, "", model.AlertThreshold, th)
}

// ThresholdKey is the idempotency key of the transition to status of ws's
// alert at threshold percent th, in period.
func ThresholdKey(period, ws, th string, status model.AlertStatus) string {
	return ThresholdID(period, ws, th) + "#" + string(status)
}

// Settled reports whether every delivery of period the store holds is done
// (false when the store cannot be read).
func Settled(ctx context.Context, st *feed.AlertStore, period string) bool {
	recs, _, err := st.Load(ctx, period)
	if err != nil {
		return false
	}
	for _, r := range recs {
		if r.Pending() >= 0 {
			return false
		}
	}
	return true
}

// Receiver is a local webhook that takes JSON payloads, counting them by
// their "key" (the idempotency key) and keeping them in the order taken.
type Receiver struct {
	// URL is where it listens.
	URL string

	mu      sync.Mutex
	refuse  func(key string) int
	taken   []map[string]any
	keys    map[string]int
	refused map[string]int
}

// NewReceiver starts a receiver, closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{keys: map[string]int{}, refused: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var p map[string]any
		_ = json.Unmarshal(b, &p)
		key, _ := p["key"].(string)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.refuse != nil {
			if code := r.refuse(key); code != 0 {
				r.refused[key]++
				w.WriteHeader(code)
				return
			}
		}
		r.keys[key]++
		r.taken = append(r.taken, p)
	}))
	r.URL = srv.URL
	t.Cleanup(srv.Close)
	return r
}

// Refuse sets what answers a payload instead of taking it: a status, or 0 to
// take it (nil: take every one). refuse runs under the receiver's lock.
func (r *Receiver) Refuse(refuse func(key string) int) {
	r.mu.Lock()
	r.refuse = refuse
	r.mu.Unlock()
}

// Keys returns how many times each key was taken.
func (r *Receiver) Keys() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.keys)
}

// Refused returns how many times each key was refused.
func (r *Receiver) Refused() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.refused)
}

// Payloads returns the payloads taken, in order.
func (r *Receiver) Payloads() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.taken)
}

// Has returns a condition: every one of keys was taken.
func (r *Receiver) Has(keys ...string) func() bool {
	return func() bool {
		got := r.Keys()
		for _, k := range keys {
			if got[k] == 0 {
				return false
			}
		}
		return true
	}
}
