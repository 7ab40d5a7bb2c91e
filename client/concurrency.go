package client

import (
	"context"
	"sort"
	"sync"
	"time"
)

// JobKind names a class of job with its own concurrency cap and poll interval.
type JobKind string

// The job kinds the API caps or that are polled.
const (
	// JobMave is a Mave chat (max 10 at once).
	JobMave JobKind = "mave"
	// JobFocusGroup is a focus group, from creation to completion (max 5 at once).
	JobFocusGroup JobKind = "focus-group"
	// JobVideo is a video analysis, from creation to completion (max 3 at once).
	JobVideo JobKind = "video"
	// JobBrandVoice is a brand voice being generated (no documented cap).
	JobBrandVoice JobKind = "brand-voice"
)

// DefaultCaps returns the documented concurrency caps.
func DefaultCaps() map[JobKind]int {
	return map[JobKind]int{JobMave: 10, JobFocusGroup: 5, JobVideo: 3}
}

// pollInterval is how often Wait polls a job of kind: video analyses every 15 s as
// the docs advise, focus groups, brand voices and anything else every 5 s.
func pollInterval(kind JobKind) time.Duration {
	if kind == JobVideo {
		return 15 * time.Second
	}
	return 5 * time.Second
}

// Slots is the state of one kind's concurrency cap.
type Slots struct {
	// Kind is the job kind the cap applies to.
	Kind JobKind
	// Limit is the cap (0: none).
	Limit int
	// Running is how many jobs hold a slot.
	Running int
	// Waiting is how many launches wait for one.
	Waiting int
}

// slotSet holds one semaphore per capped kind.
type slotSet struct {
	mu     sync.Mutex
	kinds  map[JobKind]*semaphore
	notify func(Slots)
}

type semaphore struct {
	limit   int
	running int
	waiting int
	// free is signalled (closed and replaced) whenever a slot is released.
	free chan struct{}
}

func newSlotSet(caps map[JobKind]int, notify func(Slots)) *slotSet {
	s := &slotSet{kinds: make(map[JobKind]*semaphore), notify: notify}
	for k, n := range caps {
		if n > 0 {
			s.kinds[k] = &semaphore{limit: n, free: make(chan struct{})}
		}
	}
	return s
}

// acquire waits for a slot of kind (cancellable by ctx) and returns the function
// that gives it back. An uncapped kind returns at once.
func (s *slotSet) acquire(ctx context.Context, kind JobKind) (release func(), err error) {
	s.mu.Lock()
	sem := s.kinds[kind]
	if sem == nil {
		s.mu.Unlock()
		return func() {}, nil
	}
	counted := false
	for sem.running >= sem.limit {
		if !counted {
			sem.waiting++
			counted = true
			s.changed(kind, sem)
		}
		free := sem.free
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			s.mu.Lock()
			sem.waiting--
			s.changed(kind, sem)
			s.mu.Unlock()
			return nil, ctx.Err()
		case <-free:
		}
		s.mu.Lock()
	}
	if counted {
		sem.waiting--
	}
	sem.running++
	s.changed(kind, sem)
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			sem.running--
			close(sem.free)
			sem.free = make(chan struct{})
			s.changed(kind, sem)
			s.mu.Unlock()
		})
	}, nil
}

// changed reports a new state to the hook; called with s.mu held, so the hook
// must not call back into the client.
func (s *slotSet) changed(kind JobKind, sem *semaphore) {
	if s.notify != nil {
		s.notify(Slots{Kind: kind, Limit: sem.limit, Running: sem.running, Waiting: sem.waiting})
	}
}

func (s *slotSet) snapshot() []Slots {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Slots, 0, len(s.kinds))
	for k, sem := range s.kinds {
		out = append(out, Slots{Kind: k, Limit: sem.limit, Running: sem.running, Waiting: sem.waiting})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// Concurrency returns, per capped kind, its cap and how many jobs run and wait.
func (c *Client) Concurrency() []Slots { return c.sh.slots.snapshot() }
