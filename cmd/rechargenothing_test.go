package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestARechargeOfNothingIsAUsageError: `emit --kind recharge --credits 0`
// recorded "0 credits added" (an entry and a recharged counter of nothing),
// and --status 402 or --code on a recharge recorded credits added for a
// refusal. Each is a usage error (exit 2, nothing written: the database
// stays empty), and feed.Publisher refuses the same events (model's one rule,
// Event.Normalize). A recharge of 1 credit is still recorded. Real redis-server.
func TestARechargeOfNothingIsAUsageError(t *testing.T) {
	srv := feedtest.StartReal(t, "emit's writes need redis-server")
	t.Setenv("REDIS_URL", srv.URL)
	ctx := context.Background()
	c := srv.Client()
	for _, args := range [][]string{
		{"--credits", "0"},
		{"--credits", "-5"},
		{"--credits", "5", "--status", "402"},
		{"--credits", "5", "--status", "200"},
		{"--credits", "5", "--code", "credits_exhausted"},
	} {
		full := append([]string{"emit", "--ws", "acme", "--kind", "recharge"}, args...)
		_, errOut, code := runMavtop(t, full...)
		if code != 2 || !strings.Contains(errOut, "nothing written") {
			t.Errorf("%v: exit %d, stderr %q; want 2, nothing written", full, code, errOut)
		}
	}
	pub := feed.NewPublisher(c, feed.PublisherOptions{Lanes: 1, RetryFor: -1})
	for _, e := range []model.Event{
		{Kind: model.KindRecharge, Workspace: "acme", Credits: 0},
		{Kind: model.KindRecharge, Workspace: "acme", Credits: -1},
		{Kind: model.KindRecharge, Workspace: "acme", Credits: 5, Status: 402, Code: "credits_exhausted"},
		{Kind: model.KindRecharge, Workspace: "acme", Credits: 5, Code: "credits_exhausted"},
	} {
		if _, err := pub.Record(ctx, e); err == nil {
			t.Errorf("the publisher recorded %+v", e)
		}
	}
	if keys, _ := c.Keys(ctx, "*").Result(); len(keys) != 0 {
		t.Fatalf("refused recharges wrote %v", keys)
	}
	// one credit is a recharge: recorded, the counter holds it
	if out, errOut, code := runMavtop(t, "emit", "--ws", "acme", "--kind", "recharge", "--credits", "1"); code != 0 {
		t.Fatalf("a recharge of 1: exit %d\n%s%s", code, out, errOut)
	}
	p := model.MonthlyUTC.At(time.Now())
	if got, _ := c.HGetAll(ctx, feed.Keys{}.Recharged(p.Key)).Result(); got["acme"] != "1" {
		t.Errorf("recharged counter %v, want acme 1", got)
	}
}
