// Package sim drives simulated applications against the API sandbox through the
// real client, with tracking on, for demo mode and for long compressed-time tests.
//
// Six workspaces with different allocations and traffic mixes are set up so that,
// within the first 15 seconds, every level shows at once: one below 50 %, one at
// 50–75 %, one at 75–90 %, one at 90 % or more, one refused with 402
// credits_exhausted, and one whose project is refused with 402 budget_exceeded;
// one has auto-recharge. Traffic is paced for a person to watch (about one call a
// second per workspace) with a stress mode twenty times faster.
package sim
