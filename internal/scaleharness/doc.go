// Package scaleharness holds the hand-run scale harness (its tests, skipped
// unless MAVTOP_SCALE is set; not part of CI): a real redis-server filled with a
// 1M-entry hour or 100k workspaces, the dashboard (hub, subscriber and a
// headless tea.Program drawing 200×50 frames at its own pace) in a child
// process, and the figures the README's scale table gives: time to the first
// frame, the history read back, CPU % of a core and RSS sampled every 10 s.
//
//	MAVTOP_SCALE=1 go test ./internal/scaleharness -run Startup -v -timeout 30m
//	MAVTOP_SCALE=1 MAVTOP_SCALE_MINUTES=10 go test ./internal/scaleharness -run Steady -v -timeout 60m
//
// MAVTOP_SCALE_WORKSPACES and MAVTOP_SCALE_ENTRIES change the sizes,
// MAVTOP_SCALE_RATE the events/s, MAVTOP_SCALE_HEAP a directory for the
// child's heap profiles (one a minute, for go tool pprof -base diffs; with
// MAVTOP_SCALE_HEAP_GC=1 each after a collection of its own, so a profile is
// what is live then and the child's stderr says the live heap: the forced
// collections move the memory limit, so that run's RSS is no policy figure),
// MAVTOP_SCALE_CPU a file for a CPU profile of the child's first 2 s, or of
// the minute from MAVTOP_SCALE_CPU_FROM seconds after its start,
// MAVTOP_SCALE_AUDIT_EVERY the subscriber's audit cadence (1s brings the
// audit's every-60th full read every minute, so a 4-minute run shows it),
// MAVTOP_SCALE_MAXLEN the producers' MAXLEN ~ (feed.DefaultMaxLen, 1M entries,
// keeps less than an hour after ~17 minutes at 1,000 events/s, which a 10-minute
// run never reaches: 20000 brings the trim re-derive every minute at once),
// MAVTOP_SCALE_WATCHER=0 leaves out the alert watcher every mavtop runs.
//
// BenchmarkFirstFrame is the dashboard's start alone, a fresh child process
// a start (the one the harness runs, so the same memory policy as main.go's
// and the same start path), from its exec to its first frame showing a row;
// MAVTOP_SCALE_CPU=FILE and MAVTOP_SCALE_TRACE=FILE write a CPU profile and an
// execution trace of each start (FILE.0, FILE.1, …); MAVTOP_SCALE_RATE=1000
// has producers write while it starts, as the Steady harness's child does;
// MAVTOP_SCALE_AB=BIN pairs each start with one of another build's test
// binary (go test -c at the commit to compare), in alternating order, and
// reports its CPU as ab-cpu-ms/op: on a loaded machine only starts in the
// same minutes compare:
//
//	MAVTOP_SCALE=1 go test ./internal/scaleharness -run '^$' -bench FirstFrame -benchtime 5x
//	(cd /tmp/old && go test -c -o /tmp/old.test ./internal/scaleharness)
//	MAVTOP_SCALE=1 MAVTOP_SCALE_RATE=1000 MAVTOP_SCALE_AB=/tmp/old.test go test ./internal/scaleharness -run '^$' -bench FirstFrame -benchtime 6x
package scaleharness
