package client

import (
	"context"
	"sync"

	"mavtop/model"
)

// MemoryTracker is an in-process Tracker and Balances: it sums the events it is
// given per workspace, and knows a workspace's remaining credits once its
// allocation is set (allocation + recharges − used). Tests and the simulator use it
// where no feed is at hand. It is safe for concurrent use.
type MemoryTracker struct {
	mu     sync.Mutex
	ws     map[string]*MemoryTotals
	alloc  map[string]int64
	events []model.Event
	keep   bool
}

// MemoryTotals are one workspace's sums.
type MemoryTotals struct {
	// Used is the credits of usage events.
	Used int64
	// Recharged is the credits of recharge events.
	Recharged int64
	// Refused counts 402 events by code.
	Refused map[string]int64
	// Events counts usage events.
	Events int64
	// ByEndpoint sums usage credits per endpoint.
	ByEndpoint map[string]int64
}

// NewMemoryTracker returns an empty tracker; keepEvents keeps every event for Events.
func NewMemoryTracker(keepEvents bool) *MemoryTracker {
	return &MemoryTracker{ws: map[string]*MemoryTotals{}, alloc: map[string]int64{}, keep: keepEvents}
}

// Track validates and normalises e the way the stream's reader would and adds it.
func (m *MemoryTracker) Track(_ context.Context, e model.Event) error {
	if err := e.Normalize(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.ws[e.Workspace]
	if t == nil {
		t = &MemoryTotals{Refused: map[string]int64{}, ByEndpoint: map[string]int64{}}
		m.ws[e.Workspace] = t
	}
	switch e.Kind {
	case model.KindUsage:
		t.Events++
		t.Used += e.Credits
		t.ByEndpoint[e.Endpoint] += e.Credits
		if e.Refused() {
			t.Refused[e.Code]++
		}
	case model.KindRecharge:
		t.Recharged += e.Credits
	}
	if m.keep {
		m.events = append(m.events, e)
	}
	return nil
}

// SetAllocation sets a workspace's allocation, which makes its balance known.
func (m *MemoryTracker) SetAllocation(ws string, credits int64) {
	m.mu.Lock()
	m.alloc[ws] = credits
	m.mu.Unlock()
}

// Remaining returns allocation + recharged − used; known is false without an allocation.
func (m *MemoryTracker) Remaining(_ context.Context, ws string) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.alloc[ws]
	if !ok {
		return 0, false, nil
	}
	var used, recharged int64
	if t := m.ws[ws]; t != nil {
		used, recharged = t.Used, t.Recharged
	}
	return a + recharged - used, true, nil
}

// Totals returns a copy of every workspace's sums.
func (m *MemoryTracker) Totals() map[string]MemoryTotals {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]MemoryTotals, len(m.ws))
	for k, t := range m.ws {
		c := *t
		c.Refused = make(map[string]int64, len(t.Refused))
		for code, n := range t.Refused {
			c.Refused[code] = n
		}
		c.ByEndpoint = make(map[string]int64, len(t.ByEndpoint))
		for ep, n := range t.ByEndpoint {
			c.ByEndpoint[ep] = n
		}
		out[k] = c
	}
	return out
}

// Events returns the events kept (NewMemoryTracker(true)), in arrival order.
func (m *MemoryTracker) Events() []model.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]model.Event(nil), m.events...)
}
