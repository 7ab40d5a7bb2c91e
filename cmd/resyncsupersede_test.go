package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// driftNote is what a drift of fig credits found by an audit says.
func driftNote(fig string) string {
	return "the counters and the stream disagreed: counters re-read, " + fig + " credits"
}

// listedAlerts is `mavtop alerts --json`'s list, by id.
func listedAlerts(t *testing.T, url string) map[string]feed.StoredAlert {
	t.Helper()
	out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", url)
	var listed struct {
		Alerts []feed.StoredAlert `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || code != 0 {
		t.Fatalf("alerts --json: exit %d, %v, %s\n%s", code, err, errOut, out)
	}
	by := map[string]feed.StoredAlert{}
	for _, a := range listed.Alerts {
		by[a.Alert.ID] = a
	}
	return by
}

// checkTwoDriftFirings fails t unless `mavtop alerts --json` lists both
// drifts as firings: the first (+5) resolved, superseded by the second,
// its firing delivery saying +5 and its record naming the re-read it
// raised, not the second's; the second (+7) firing as the next episode.
func checkTwoDriftFirings(t *testing.T, url, period string) {
	t.Helper()
	id := model.AlertID(period, "", "", model.AlertResync, "drift")
	id2 := model.EpisodeID(id, 2)
	var by map[string]feed.StoredAlert
	waitUntil(t, 60*time.Second, "alerts --json to list "+id2+" firing", func() bool {
		by = listedAlerts(t, url)
		r, ok := by[id2]
		return ok && r.Status == model.AlertFiring
	})
	first, second := by[id], by[id2]
	if first.Status != model.AlertResolved || first.Alert.Note != driftNote("+5") || first.Alert.Next != driftNote("+7") {
		t.Errorf("%s: %s, note %q, next %q; want resolved, superseded by +7", id, first.Status, first.Alert.Note, first.Alert.Next)
	}
	if len(first.Deliveries) == 0 || first.Deliveries[0].Transition.Status != model.AlertFiring || first.Deliveries[0].Summary != driftNote("+5") {
		t.Errorf("%s: deliveries %+v, want its firing saying +5 first", id, first.Deliveries)
	}
	if first.Alert.ResyncAt.After(first.FiredAt) {
		t.Errorf("%s: resync_at %v after its own fired_at %v: the record names the re-read that superseded it", id, first.Alert.ResyncAt, first.FiredAt)
	}
	if second.Alert.Note != driftNote("+7") || len(second.Deliveries) == 0 || second.Deliveries[0].Summary != driftNote("+7") {
		t.Errorf("%s: note %q, deliveries %+v; want it firing saying +7", id2, second.Alert.Note, second.Deliveries)
	}
	if r, ok := by[model.EpisodeID(id, 3)]; ok {
		t.Errorf("a third drift episode for two drifts: %+v", r)
	}
	out, _, _ := runMavtop(t, "alerts", "--redis", url)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if want := "feed drift (" + driftNote("+7") + ") firing (1 alert firing)."; lines[len(lines)-1] != want {
		t.Errorf("alerts' firing line %q, want %q\n%s", lines[len(lines)-1], want, out)
	}
}

// TestASecondDriftSecondsLaterFiresUnderWatch (issue 11, hostile11): `mavtop
// watch` alone on a redis-server; a counter raised by 5 without its stream
// entry (HINCRBY: only an audit finds it), then by 7 a few seconds after the
// first fired. The first resolved "superseded by a new re-read … +7
// credits" and the +7 re-read never fired: the stored resolution held the
// +7 re-read's own time, which the rule compared with itself. Now both are
// firings, listed by `mavtop alerts --json`, and `mavtop alerts` ends with
// the +7 drift firing.
func TestASecondDriftSecondsLaterFiresUnderWatch(t *testing.T) {
	srv := feedtest.StartReal(t, "a drift the audit finds needs redis-server")
	c := srv.Client()
	ctx := context.Background()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	usage.Set("beta", model.Settings{Allocation: 1_000_000})
	usage.Spend("beta", 10)
	stderr, stop := startWatch(t, "--redis", srv.URL, "--audit", "200ms")
	defer stop()
	defer func() {
		if t.Failed() {
			t.Logf("watch:\n%s", stderr.String())
		}
	}()
	waitUntil(t, 60*time.Second, "watch to follow", func() bool { return strings.Contains(stderr.String(), "workspaces found") })
	id := model.AlertID(p.Key, "", "", model.AlertResync, "drift")
	c.HIncrBy(ctx, feed.Keys{}.Used(p.Key), "beta", 5)
	waitUntil(t, 60*time.Second, "the +5 drift firing", func() bool {
		r, ok := listedAlerts(t, srv.URL)[id]
		return ok && r.Status == model.AlertFiring && r.Alert.Note == driftNote("+5")
	})
	time.Sleep(3 * time.Second) // seconds apart, well within model.ResyncSameEvent
	c.HIncrBy(ctx, feed.Keys{}.Used(p.Key), "beta", 7)
	checkTwoDriftFirings(t, srv.URL, p.Key)
}

// TestASecondDriftKeepsTheHeaderNote (issue 11, hostile11): the dashboard
// (one instance: it judges the lifecycle itself) in a real terminal on a
// redis-server: after a drift of +5 its header says "feed drift (… +5
// credits) firing"; after a second drift of +7 seconds later it dropped the
// note (the +7 re-read never fired). It now says the +7 one, and `mavtop
// alerts --json` lists both firings.
func TestASecondDriftKeepsTheHeaderNote(t *testing.T) {
	srv := feedtest.StartReal(t, "a drift the audit finds needs redis-server")
	self, tmux := privateTmux(t)
	c := srv.Client()
	ctx := context.Background()
	usage := notifytest.NewUsage(t, c)
	p := usage.MidPeriod().At(time.Now())
	usage.Set("beta", model.Settings{Allocation: 1_000_000})
	usage.Spend("beta", 10)
	const w, h = 200, 50
	session := fmt.Sprintf("mavtop-drift-%d", os.Getpid())
	cmd := fmt.Sprintf("env MAVTOP_AS_MAIN=1 MAVTOP_ARGS='--redis %s --audit 200ms' %s; sleep 30", srv.URL, self)
	if out, err := tmux("new-session", "-d", "-s", session, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmd).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	defer tmux("kill-session", "-t", session).Run()
	var screen string
	header := func() string {
		out, err := tmux("capture-pane", "-p", "-t", session).Output()
		if err != nil {
			t.Fatalf("capture-pane: %v", err)
		}
		screen = string(out)
		first, _, _ := strings.Cut(screen, "\n")
		return first
	}
	defer func() {
		if t.Failed() {
			t.Logf("screen:\n%s", screen)
		}
	}()
	waitUntil(t, 60*time.Second, "the dashboard with beta", func() bool {
		header()
		return strings.Contains(screen, "beta")
	})
	c.HIncrBy(ctx, feed.Keys{}.Used(p.Key), "beta", 5)
	waitUntil(t, 60*time.Second, "the header to say the +5 drift", func() bool {
		return strings.Contains(header(), "feed drift ("+driftNote("+5")+") firing")
	})
	time.Sleep(3 * time.Second)
	c.HIncrBy(ctx, feed.Keys{}.Used(p.Key), "beta", 7)
	waitUntil(t, 60*time.Second, "the header to say the +7 drift", func() bool {
		return strings.Contains(header(), "feed drift ("+driftNote("+7")+") firing")
	})
	checkTwoDriftFirings(t, srv.URL, p.Key)
	if hd := header(); !strings.Contains(hd, "feed drift ("+driftNote("+7")+") firing") {
		t.Errorf("the header dropped the drift note: %q", hd)
	}
	tmux("send-keys", "-t", session, "q").Run()
}
