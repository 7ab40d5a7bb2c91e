// Package sandbox emulates the Mavera API, as its documentation (api/mavera-api.md
// in the project's shared notes) describes it, closely enough that the client cannot
// tell: the same paths under /api/v1, bodies, status codes, error bodies and
// X-RateLimit-* headers. It keeps accounts (any well-formed mvra_live_ key),
// per-workspace balances and budgets, project limits, auto-recharge, a per-key
// sliding-window rate limit, asynchronous jobs that finish after a delay on an
// injected clock, and charges drawn from a seeded random source inside the
// documented ranges. Its own ledger (Ledger) lets tests compare what mavtop tracked
// with what was charged, to the credit.
//
// Every guess about what the real API does where the documentation is silent lives
// in assumptions.go.
package sandbox
