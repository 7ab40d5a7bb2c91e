package feed_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/feed/feedtest"
)

// The source field of the alert rules: what is stored is read back, a value
// that is neither source (auto included: it is resolved before it is
// stored) is an error naming the field, and two instances' sources that
// differ are said with the flag's words.
func TestAlertRulesSource(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	k := feed.Keys{}
	held, err := feed.SeedAlertRules(ctx, c, k, feed.AlertRules{Source: feed.SourceCounters, CounterPattern: "app:used:*"})
	if err != nil || held.Source != feed.SourceCounters || held.CounterPattern != "app:used:*" {
		t.Fatalf("seeded counters: %+v, %v", held, err)
	}
	if v := c.HGet(ctx, k.AlertRules(), feed.RuleSource).Val(); v != "counters app:used:*" {
		t.Errorf("stored %q", v)
	}
	// a second seeding changes nothing
	held, err = feed.SeedAlertRules(ctx, c, k, feed.AlertRules{Source: feed.SourceStream})
	if err != nil || held.Source != feed.SourceCounters {
		t.Fatalf("seeded again: %+v, %v", held, err)
	}
	for _, tc := range []struct {
		own  feed.AlertRules
		want string
	}{
		{feed.AlertRules{Source: feed.SourceStream}, "--source stream (shared: counters app:used:*)"},
		{feed.AlertRules{Source: feed.SourceCounters, CounterPattern: "other:*"}, "--counter-pattern other:* (shared: app:used:*)"},
		{feed.AlertRules{Source: feed.SourceCounters, CounterPattern: "app:used:*"}, ""},
		{feed.AlertRules{}, ""},
	} {
		if got := held.Disagree(tc.own); got != tc.want {
			t.Errorf("Disagree(%+v) = %q, want %q", tc.own, got, tc.want)
		}
	}
	for v, want := range map[string]string{"stream": "", "counters": "", "auto": "not stream, or counters", "stream x:*": "not stream, or counters",
		"counters x": "not stream, or counters"} {
		c.HSet(ctx, k.AlertRules(), feed.RuleSource, v)
		r, err := feed.ReadAlertRules(ctx, c, k)
		var bad *feed.AlertRulesError
		switch {
		case want == "" && (err != nil || string(r.Source) != strings.Fields(v)[0]):
			t.Errorf("%q read as %+v, %v", v, r, err)
		case want != "" && (!errors.As(err, &bad) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "field source")):
			t.Errorf("%q read as %+v, %v: want an error saying %q", v, r, err, want)
		}
	}
}
