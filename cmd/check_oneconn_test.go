package cmd

import (
	"context"
	"testing"

	"mavtop/feed/feedtest"
)

// TestCheckConnectsOnce: mavtop check reads on one connection, its MULTI
// too: go-redis v9.23 sends pipelines and MULTIs to a pool of their own, so
// check dialled a second connection for its one MULTI (a HELLO and two
// CLIENT SETINFO more, 256 KiB of buffers), a tenth of its CPU at 10k
// workspaces (issue 16).
func TestCheckConnectsOnce(t *testing.T) {
	srv := feedtest.Start(t)
	if !srv.Real {
		t.Skip("commandstats need redis-server")
	}
	seedLevels(t, srv)
	c := srv.Client()
	if err := c.ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	out, _, code := runMavtop(t, "check", "--json", "--redis="+srv.URL)
	got := commandCalls(t, c)
	if code != checkCritical || got["hello"] != 1 || got["multi"] != 1 {
		t.Errorf("exit %d, commands %v; want one connection (1 hello) and its 1 multi\n%s", code, got, out)
	}
}
