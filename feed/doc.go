// Package feed is mavtop's Redis edge: the publisher that records usage events
// (counters and stream entry in one MULTI/EXEC), the subscriber that reads one
// consistent snapshot and then follows the stream, the settings store, balances
// for pre-flight checks, the connection helpers and the embedded server for demo
// mode. Everything above it (model/, tui/) sees only model types and messages.
//
// The wire contract (stream fields, key names, billing periods) is described in
// the README's "The usage stream" section; keys.go holds the key names.
package feed
