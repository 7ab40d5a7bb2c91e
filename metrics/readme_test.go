package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestREADMEAlertRulesNameMetricsThatExist: every mavtop_ metric the README's
// alerting examples name is one the exporter describes (a misspelt or removed
// name is an alert that can never fire), and the rules use the freshness
// gauges.
func TestREADMEAlertRulesNameMetricsThatExist(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "Alerting examples:\n\n```yaml\n")
	rules, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the README has no alerting examples block")
	}
	described := map[string]bool{}
	ch := make(chan *prometheus.Desc)
	go func() { New(nil, Options{}).Describe(ch); close(ch) }()
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if m := name.FindStringSubmatch(d.String()); m != nil {
			described[m[1]] = true
		}
	}
	named := regexp.MustCompile(`mavtop_[a-z_]+`).FindAllString(rules, -1)
	for _, n := range named {
		if !described[n] {
			t.Errorf("the README's alert rules name %s, which the exporter does not describe", n)
		}
	}
	for _, want := range []string{"mavtop_feed_last_event_timestamp_seconds", "mavtop_feed_ids_ahead_seconds", "mavtop_feed_connected", "mavtop_workspaces"} {
		if !strings.Contains(rules, want) {
			t.Errorf("the README's alert rules do not use %s", want)
		}
	}
	if len(described) < 30 || len(named) < 6 {
		t.Fatalf("%d metrics described, %d named in the rules: the test reads nothing", len(described), len(named))
	}
}
