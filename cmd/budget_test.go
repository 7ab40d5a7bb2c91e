package cmd

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

func TestBudgetSetMergesAndShows(t *testing.T) {
	srv := feedtest.Start(t)
	r := "--redis=" + srv.URL
	ctx := context.Background()
	store := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{})

	steps := []struct {
		args []string
		want string
	}{
		{[]string{"budget", "set", "acme", r, "--allocation", "10000", "--alerts", "50,80,95"}, "allocation 10000, usage limit unset, alerts at 50%/80%/95%"},
		{[]string{"budget", "set", "acme", r, "--limit", "12000"}, "allocation 10000, usage limit 12000, alerts at 50%/80%/95%"},
		{[]string{"budget", "set", "acme", r, "--recharge-below", "100", "--recharge-amount", "500"}, "auto-recharge 500 below 100"},
		{[]string{"budget", "set", "acme/research", r, "--limit", "2000", "--alert", "1500"}, "acme/research: usage limit 2000, budget alert 1500"},
	}
	for _, s := range steps {
		out, errOut, code := runMavtop(t, s.args...)
		if code != 0 || !strings.Contains(out, s.want) {
			t.Fatalf("%v: exit %d, %q %q; want %q", s.args, code, out, errOut, s.want)
		}
	}
	set, ok, err := store.Workspace(ctx, "acme")
	if err != nil || !ok || set.Allocation != 10000 || set.UsageLimit != 12000 || set.RechargeAmount != 500 || len(set.Alerts) != 3 {
		t.Fatalf("stored %+v, %v, %v", set, ok, err)
	}
	pub := feed.NewPublisher(srv.Client(), feed.PublisherOptions{})
	if err := pub.Track(ctx, model.Event{Workspace: "acme", Project: "research", Endpoint: "/focus-groups", Credits: 150, Status: 200}); err != nil {
		t.Fatal(err)
	}
	out, _, code := runMavtop(t, "budget", "show", r)
	for _, want := range []string{"acme", "150", "10000", "/research", "usage limit 2000, budget alert 1500", "calendar months, UTC"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("budget show lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	out, _, code = runMavtop(t, "budget", "show", "acme", "--json", r)
	var got struct {
		Workspaces []struct {
			Workspace string `json:"workspace"`
			Used      int64  `json:"used"`
			Projects  []struct {
				Project string `json:"project"`
				Used    int64  `json:"used"`
			} `json:"projects"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || len(got.Workspaces) != 1 ||
		got.Workspaces[0].Used != 150 || len(got.Workspaces[0].Projects) != 1 || got.Workspaces[0].Projects[0].Used != 150 {
		t.Errorf("budget show --json: exit %d, %v, %s", code, err, out)
	}
	if _, _, code := runMavtop(t, "budget", "show", "nobody", r); code != 1 {
		t.Errorf("budget show of an unknown workspace: exit %d, want 1", code)
	}
}

func TestBudgetSetRefusesBadInputAndWritesNothing(t *testing.T) {
	srv := feedtest.Start(t)
	r := "--redis=" + srv.URL
	for _, args := range [][]string{
		{"acme", "--allocation", "-1"},
		{"acme", "--alerts", "90,50"},
		{"acme", "--alerts", "lots"},
		{"acme", "--recharge-below", "100"},
		{"acme", "--alert", "5"},
		{"acme"},
		{"acme corp", "--allocation", "5"},
		{"acme/research", "--allocation", "5"},
		{"acme/research", "--limit", "100", "--alert", "200"},
	} {
		_, errOut, code := runMavtop(t, append(append([]string{"budget", "set"}, args...), r)...)
		if code != 2 || errOut == "" {
			t.Errorf("budget set %v: exit %d, stderr %q; want 2", args, code, errOut)
		}
	}
	if n, _ := srv.Client().DBSize(context.Background()).Result(); n != 0 {
		t.Errorf("refused input wrote %d keys", n)
	}
}

func TestBudgetPeriod(t *testing.T) {
	srv := feedtest.Start(t)
	r := "--redis=" + srv.URL
	out, _, code := runMavtop(t, "budget", "period", r)
	if code != 0 || !strings.Contains(out, "calendar months, UTC") {
		t.Errorf("default: exit %d\n%s", code, out)
	}
	out, _, code = runMavtop(t, "budget", "period", r, "--start-day", "15", "--tz", "Europe/Paris")
	if code != 0 || !strings.Contains(out, "starting on day 15 of each month at 00:00 Europe/Paris") {
		t.Errorf("set: exit %d\n%s", code, out)
	}
	out, _, code = runMavtop(t, "budget", "period", r, "--start-day", "3") // keeps the zone
	if code != 0 || !strings.Contains(out, "day 3 of each month at 00:00 Europe/Paris") {
		t.Errorf("set day only: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"--start-day", "31"}, {"--tz", "Mars/Olympus"}} {
		if _, _, code := runMavtop(t, append([]string{"budget", "period", r}, args...)...); code != 2 {
			t.Errorf("period %v: exit %d, want 2", args, code)
		}
	}
	stored, err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{}).Period(context.Background())
	if cfg := stored.Config(); err != nil || stored.Unreadable != nil || cfg.StartDay != 3 || cfg.TZ != "Europe/Paris" {
		t.Errorf("stored %+v, %v", stored, err)
	}
}

// TestBudgetShowSaysNoWorkspaceFound: budget show on an empty db (a typo in
// the key prefix or the db) printed a bare header and exited 0, as if every
// budget were unset. It says where it looked and exits 1; the same db with
// a workspace under the default prefix shows it.
func TestBudgetShowSaysNoWorkspaceFound(t *testing.T) {
	srv := feedtest.Start(t)
	r := "--redis=" + srv.URL
	for _, args := range [][]string{{"budget", "show", r}, {"budget", "show", r, "--json"}} {
		out, errOut, code := runMavtop(t, args...)
		if slices.Contains(args, "--json") {
			out = jsonErrorOf(t, out, 1) // one object (TestEveryJSONErrorIsOneObject)
		}
		if code != 1 || out != "" || !strings.Contains(errOut, "no workspaces found in ") || !strings.Contains(errOut, "under key prefix {mavera}") || !strings.Contains(errOut, " db 0") {
			t.Errorf("%v on an empty db: exit %d, stdout %q, stderr %q; want exit 1 and where it looked", args, code, out, errOut)
		}
	}
	if _, _, code := runMavtop(t, "budget", "set", "acme", r, "--allocation", "1000"); code != 0 {
		t.Fatalf("budget set: exit %d", code)
	}
	if out, errOut, code := runMavtop(t, "budget", "show", r, "--key-prefix", "nosuch"); code != 1 || !strings.Contains(errOut, "under key prefix nosuch") {
		t.Errorf("a prefix holding nothing: exit %d, %q %q", code, out, errOut)
	}
	if out, errOut, code := runMavtop(t, "budget", "show", r); code != 0 || !strings.Contains(out, "acme") || strings.Contains(errOut, "no workspaces") {
		t.Errorf("with acme set: exit %d, %q %q", code, out, errOut)
	}
}

// mavtop alerts on an empty db or under a mistyped prefix says where it
// looked and fails, as budget show does: it listed "No alerts" and exit 0.
func TestAlertsSaysNoWorkspaceFound(t *testing.T) {
	srv := feedtest.Start(t)
	r := "--redis=" + srv.URL
	for _, args := range [][]string{{"alerts", r}, {"alerts", r, "--json"}} {
		out, errOut, code := runMavtop(t, args...)
		if slices.Contains(args, "--json") {
			out = jsonErrorOf(t, out, 1)
		}
		if code != 1 || out != "" || !strings.Contains(errOut, "no workspaces found in ") || !strings.Contains(errOut, "under key prefix {mavera}") || !strings.Contains(errOut, " db 0") {
			t.Errorf("%v on an empty db: exit %d, stdout %q, stderr %q; want exit 1 and where it looked", args, code, out, errOut)
		}
	}
	if _, _, code := runMavtop(t, "budget", "set", "acme", r, "--allocation", "1000"); code != 0 {
		t.Fatalf("budget set: exit %d", code)
	}
	if out, errOut, code := runMavtop(t, "alerts", r, "--key-prefix", "nosuch"); code != 1 || !strings.Contains(errOut, "under key prefix nosuch") {
		t.Errorf("a prefix holding nothing: exit %d, %q %q", code, out, errOut)
	}
	if out, errOut, code := runMavtop(t, "alerts", r); code != 0 || !strings.Contains(out, "No alerts in billing period") || errOut != "" {
		t.Errorf("with acme set and nothing fired: exit %d, %q %q; want exit 0 and No alerts", code, out, errOut)
	}
}
