package feed

import "mavtop/internal/backoff"

// Backoff spaces the subscriber's reconnects and the publisher's retries: the
// capped exponential backoff with jitter that the API client uses too. Attempt n
// waits between half and all of min(Max, Min·2ⁿ⁻¹); Rand draws the jitter (nil:
// a source seeded at random, so instances that failed together retry apart).
type Backoff = backoff.Backoff
