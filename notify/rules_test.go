package notify

import (
	"context"
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// A rule stored that cannot be read is named on screen: the alerts pane's
// title (the lifecycle's Delivery) says the key, the field, what it holds and
// the built-in value judged meanwhile, and the watcher judges by that value
// (RulesNote, Rules). Set again, the title and the rules follow. Real
// redis-server. Before, the watcher only held, and the start refused.
func TestAnUnreadableStoredRuleIsNamedInThePane(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	k := feed.Keys{}
	if err := srv.Client().HSet(ctx, k.AlertRules(), feed.RuleDefaultAlerts, "10,20,30").Err(); err != nil {
		t.Fatal(err)
	}
	in := startInstanceWith(t, srv, "a", "", func(o *WatcherOptions) {
		o.Rules = feed.AlertRules{DefaultAlerts: []int{10, 20, 30}, Stale: model.DefaultStale}
	})
	if err := srv.Client().HSet(ctx, k.AlertRules(), feed.RuleDefaultAlerts, "fifty").Err(); err != nil {
		t.Fatal(err)
	}
	named := `{mavera}:alert_rules field default_alerts holds "fifty"`
	waitFor(t, "the pane to name the field", func() bool {
		return strings.Contains(in.w.Lifecycle(0).Delivery, named) && strings.Contains(in.w.RulesNote(), "judging by the built-in 50,75,90")
	})
	if got := in.w.Rules().AlertsText(); got != "50,75,90" {
		t.Errorf("judging by %s, want the built-in 50,75,90", got)
	}
	if err := srv.Client().HSet(ctx, k.AlertRules(), feed.RuleDefaultAlerts, "20,40,60").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rules set again", func() bool {
		return in.w.RulesNote() == "" && in.w.Rules().AlertsText() == "20,40,60" && !strings.Contains(in.w.Lifecycle(0).Delivery, named)
	})
}
