package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/tui"
)

// TestEverySurfacePrintsOnePercent: a workspace's percent reads the same on
// check, budget show and the dashboard (model.FormatPercent: floored, a decimal
// from 90 % on), so 18,708 of 18,900 is "98.9 %" above 18,522's "98.0 %", and
// 18,899 is not yet "100 %".
func TestEverySurfacePrintsOnePercent(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	cases := map[string]struct {
		used int64
		want string
	}{
		"close": {18708, "98.9 %"}, "flat": {18522, "98.0 %"}, "nearly": {18899, "99.9 %"},
		"half": {9449, "49 %"}, "ninety": {17009, "89 %"}, "full": {18900, "100 %"},
	}
	for name, w := range cases {
		if err := store.SetWorkspace(ctx, name, model.Settings{Allocation: 18900, Alerts: []int{99}}); err != nil {
			t.Fatal(err)
		}
		if err := pub.Track(ctx, model.Event{Workspace: name, Endpoint: "/responses", Credits: w.used, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	r := "--redis=" + srv.URL
	rowOf := func(screen, name string) string {
		for _, line := range strings.Split(screen, "\n") {
			if f := strings.Fields(line); len(f) > 0 && (f[0] == name || len(f) > 1 && f[1] == name) {
				return line
			}
		}
		return ""
	}
	checkOut, _, _ := runMavtop(t, "check", r)
	budgetOut, _, _ := runMavtop(t, "budget", "show", r)

	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hub := startHub(hctx, feed.NewSubscriber(c, feed.SubscriberOptions{}), nil, nil)
	tm := teatest.NewTestModel(t, tui.New(tui.Options{Source: hub.Join(), Renderer: lipgloss.DefaultRenderer()}),
		teatest.WithInitialTermSize(200, 50))
	var seen []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = append(seen, b...)
		s := ansi.Strip(string(seen))
		for name := range cases {
			if !strings.Contains(s, name) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(15*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	screen := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
	for name, w := range cases {
		for surface, out := range map[string]string{"check": checkOut, "budget show": budgetOut, "dashboard": screen} {
			row := rowOf(out, name)
			if !strings.Contains(row, " "+w.want+" ") && !strings.HasSuffix(row, " "+w.want) {
				t.Errorf("%s: %s row %q lacks %q", name, surface, row, w.want)
			}
			if w.want != "100 %" && strings.Contains(row, "100 %") {
				t.Errorf("%s: %s row %q shows 100 %% before the allocation is used", name, surface, row)
			}
		}
	}
}
