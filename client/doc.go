// Package client is a Go client for the credit-consuming endpoints of the Mavera API
// (https://app.mavera.io/api/v1): responses, Mave chat, focus groups, video analyses,
// personas, brand voices, plus GET /usage and GET /workspaces.
//
// On top of the HTTP calls it implements the credit-usage patterns of Mavera's guide:
//
//   - every result exposes the credits it used (Credits());
//   - typed errors (*APIError) with helpers for 402 credits_exhausted / budget_exceeded,
//     429 and 401; a 402 is never retried, a 429 waits for Retry-After, 5xx and
//     connection errors are retried with capped exponential backoff and jitter under
//     the rule in transport.go (creations only when they cannot have reached the API);
//   - tracking (Pattern 1): each call's outcome is published once to a Tracker (the
//     feed's Redis publisher) as a model.Event;
//   - pre-flight (Pattern 3): Launch* estimates a job with package estimator and
//     refuses it before any HTTP call when the workspace cannot afford it;
//   - graceful 402 (Pattern 6): UserMessage, and a Redis RetryQueue for refused jobs;
//   - concurrency caps (Mave 10, focus groups 5, video analyses 3) that make launches
//     wait visibly instead of failing, and the latest X-RateLimit-* headers;
//   - reconciliation against GET /usage on an interval.
//
// The API key never leaves the Authorization header: errors, events and logs carry at
// most its last four characters.
package client
