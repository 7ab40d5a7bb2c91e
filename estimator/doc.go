// Package estimator prices a Mavera API job before it runs: the seed's Pattern 2
// (a cost table of low–high ranges, the focus-group formula, video by length) and
// Pattern 3 (a pre-flight check with a 20 % buffer that fails fast with an
// InsufficientCreditsError), plus a look-ahead against a workspace's alert thresholds
// and an estimate-vs-actual calibration.
//
// The package is pure: no IO, no clock, no global mutable state. Every figure lives in
// table.go, so a price change is a one-file edit.
package estimator
