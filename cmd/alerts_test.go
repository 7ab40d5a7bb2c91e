package cmd

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify"
	"mavtop/notify/notifytest"
)

// `mavtop alerts --json` says level and cap_kind in the words the webhook
// payload uses (they were numbers: 3 and 1 beside "high" and "allocation"),
// and percent_used as every surface shows it (model.ShownPercent): 76, not
// the stored 76.7.
func TestAlertsJSONUsesThePayloadsWords(t *testing.T) {
	srv := feedtest.Start(t)
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	tr := model.AlertTransition{Status: model.AlertFiring, At: now, Alert: model.Alert{
		ID: notifytest.ThresholdID(period, "acme", "75"), Kind: model.AlertThreshold, Period: period,
		Workspace: "acme", Threshold: 75, Used: 767, Cap: 1000, CapKind: model.CapAllocation, PercentUsed: 76.7, Level: model.LevelHigh}}
	var listed struct {
		Alerts []struct {
			Alert map[string]any `json:"alert"`
		} `json:"alerts"`
	}
	if out := claimAndList(t, srv, tr, &listed); len(listed.Alerts) != 1 {
		t.Fatalf("%d alerts listed, want 1\n%s", len(listed.Alerts), out)
	}
	p := notify.NewPayload(&tr, tr.Summary(period))
	if a := listed.Alerts[0].Alert; a["level"] != p.Level || a["cap_kind"] != p.CapKind || a["level"] != "high" {
		t.Errorf("alerts --json: level %v, cap_kind %v; the payload: %q, %q", a["level"], a["cap_kind"], p.Level, p.CapKind)
	}
	if a := listed.Alerts[0].Alert; a["percent_used"] != p.PercentUsed || a["percent_used"] != 76.0 {
		t.Errorf("alerts --json: percent_used %v; the payload and the screen: %v (76 %%)", a["percent_used"], p.PercentUsed)
	}
}

// `mavtop alerts` ends with what the dashboard's header counts: the
// workspaces with an alert firing (one workspace's three thresholds are one),
// and how many alerts that is; a resolved one is not counted.
func TestAlertsSaysWorkspacesFiring(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	store := feed.NewAlertStore(srv.Client(), "")
	claim := func(status model.AlertStatus, ws, pct string) {
		t.Helper()
		tr := model.AlertTransition{Status: model.AlertFiring, At: now, Alert: model.Alert{
			ID: notifytest.ThresholdID(period, ws, pct), Kind: model.AlertThreshold, Period: period,
			Workspace: ws, Used: 950, Cap: 1000, CapKind: model.CapAllocation, PercentUsed: 95, Level: model.LevelCritical}}
		if ok, err := store.Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{}); !ok || err != nil {
			t.Fatalf("claim %v %v", ok, err)
		}
		if status == model.AlertResolved {
			tr.Status, tr.At = model.AlertResolved, now.Add(time.Second)
			if ok, err := store.Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{}); !ok || err != nil {
				t.Fatalf("claim the resolution %v %v", ok, err)
			}
		}
	}
	for _, pct := range []string{"50", "75", "90"} {
		claim(model.AlertFiring, "acme", pct)
	}
	claim(model.AlertFiring, "globex", "50")
	claim(model.AlertResolved, "initech", "50")
	out, errOut, code := runMavtop(t, "alerts", "--redis", srv.URL)
	if code != 0 || !strings.HasSuffix(out, "\n2 workspaces firing (4 alerts firing).\n") {
		t.Errorf("code %d, want the list ending \"2 workspaces firing (4 alerts firing).\":\n%s%s", code, out, errOut)
	}
}

// --period is checked before Redis is asked: anything but a year and month is
// a usage error, never an empty list.
func TestAlertsPeriodIsValidated(t *testing.T) {
	for _, bad := range []string{"nov", "2026-13", "2026-1", "2026-11-01", "11-2026", " 2026-11"} {
		_, errOut, code := runMavtop(t, "alerts", "--period", bad, "--redis", "redis://127.0.0.1:1/0")
		if code != 2 || !strings.Contains(errOut, "--period") || !strings.Contains(errOut, "year and month") {
			t.Errorf("--period %q: code %d, %s", bad, code, errOut)
		}
	}
	srv := feedtest.Start(t)
	// a db holding a workspace (an empty one is "no workspaces found": TestAlertsSaysNoWorkspaceFound)
	if _, _, code := runMavtop(t, "budget", "set", "acme", "--redis", srv.URL, "--allocation", "1000"); code != 0 {
		t.Fatalf("budget set: exit %d", code)
	}
	out, errOut, code := runMavtop(t, "alerts", "--period", "2026-02", "--redis", srv.URL)
	if code != 0 || !strings.Contains(out, "No alerts in billing period 2026-02.") {
		t.Errorf("--period 2026-02: code %d, %s%s", code, out, errOut)
	}
}

// One alert has one percent in `mavtop alerts --json`: the record's, each
// delivery's and the webhook payload's percent_used agree, and percent_shown
// is the text check prints for the same counter (">9999 %" for 2^63−1 of
// 1,000, where the record read 922337203685478100 and its delivery
// 922337203685477600). Durations stored in nanoseconds are in seconds only.
func TestAlertsJSONHasOnePercentAndSeconds(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	const used = math.MaxInt64
	if err := c.HSet(ctx, feed.Keys{}.Used(period), "acme", used).Err(); err != nil {
		t.Fatal(err)
	}
	checkOut, errOut, _ := runMavtop(t, "check", "acme", "--redis", srv.URL)
	if !strings.Contains(checkOut, "acme >9999 % used") {
		t.Fatalf("check: %s%s", checkOut, errOut)
	}
	spare := 6*time.Hour + 26*time.Minute + 717362470
	tr := model.AlertTransition{Status: model.AlertFiring, At: now, Alert: model.Alert{
		ID: model.AlertID(period, "acme", "", model.AlertRunOut, ""), Kind: model.AlertRunOut, Period: period,
		Workspace: "acme", Used: used, Cap: 1000, CapKind: model.CapAllocation,
		PercentUsed: float64(used) * 100 / 1000, Level: model.LevelExhausted, BurnPerHour: 118.8, Spare: spare}}
	var listed struct {
		Alerts []struct {
			Alert      map[string]any `json:"alert"`
			Deliveries []struct {
				Transition struct {
					Alert map[string]any `json:"alert"`
				} `json:"transition"`
			} `json:"deliveries"`
		} `json:"alerts"`
	}
	if out := claimAndList(t, srv, tr, &listed); len(listed.Alerts) != 1 || len(listed.Alerts[0].Deliveries) != 1 {
		t.Fatalf("%d alerts listed, want 1 with 1 delivery\n%s", len(listed.Alerts), out)
	}
	p := notify.NewPayload(&tr, tr.Summary(period))
	rec, del := listed.Alerts[0].Alert, listed.Alerts[0].Deliveries[0].Transition.Alert
	for name, a := range map[string]map[string]any{"record": rec, "delivery": del} {
		if a["percent_used"] != p.PercentUsed || a["percent_shown"] != p.PercentShown || p.PercentShown != ">9999 %" {
			t.Errorf("%s: percent_used %v, percent_shown %v; the payload: %v, %q; check: >9999 %%",
				name, a["percent_used"], a["percent_shown"], p.PercentUsed, p.PercentShown)
		}
		if a["spare_seconds"] != spare.Seconds() || a["spare_seconds"] != 23160.71736247 {
			t.Errorf("%s: spare_seconds %v, want %d ns = 23160.71736247 s", name, a["spare_seconds"], spare)
		}
		// one unit for every duration: none in nanoseconds beside it
		for _, ns := range []string{"spare", "run_out_in", "down"} {
			if v, ok := a[ns]; ok {
				t.Errorf("%s: %s %v in nanoseconds beside the seconds", name, ns, v)
			}
		}
		if _, ok := a["run_out_in_seconds"]; ok {
			t.Errorf("%s: run_out_in_seconds %v without a run_out_in", name, a["run_out_in_seconds"])
		}
	}
}

// claimAndList claims tr's alert as a watcher does (its first delivery) and
// decodes what `mavtop alerts --json` lists into listed; it returns the output.
func claimAndList(t *testing.T, srv *feedtest.Server, tr model.AlertTransition, listed any) string {
	t.Helper()
	if ok, err := feed.NewAlertStore(srv.Client(), "").Claim(context.Background(), tr, tr.Summary(tr.Alert.Period), feed.ClaimOptions{}); !ok || err != nil {
		t.Fatalf("claim %v %v", ok, err)
	}
	out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
	if code != 0 {
		t.Fatalf("alerts --json: code %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), listed); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// TestAlertsSaysWhenAResolvedAlertMayFireAgain: a resolved alert fires
// again only once its resolution is model.DefaultReFireAfter old, and
// `mavtop alerts` said nothing of it (an operator wondered why it did not
// re-fire). The FIRES AGAIN column says "after <time>" during the hold-off,
// "if it holds" after it, "—" for an alert firing or an episode a later one
// followed; --json's can_fire_again_at is the same instant.
func TestAlertsSaysWhenAResolvedAlertMayFireAgain(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	period := model.MonthlyUTC.At(now).Key
	store := feed.NewAlertStore(srv.Client(), "")
	claim := func(id, ws string, fired, resolved time.Time) {
		t.Helper()
		tr := model.AlertTransition{Status: model.AlertFiring, At: fired, Alert: model.Alert{
			ID: id, Kind: model.AlertThreshold, Period: period, Threshold: 90,
			Workspace: ws, Used: 950, Cap: 1000, CapKind: model.CapAllocation, PercentUsed: 95, Level: model.LevelCritical}}
		if ok, err := store.Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{}); !ok || err != nil {
			t.Fatalf("claim %v %v", ok, err)
		}
		if !resolved.IsZero() {
			tr.Status, tr.At = model.AlertResolved, resolved
			if ok, err := store.Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{}); !ok || err != nil {
				t.Fatalf("claim the resolution %v %v", ok, err)
			}
		}
	}
	held := notifytest.ThresholdID(period, "acme", "90")
	claim(held, "acme", now.Add(-3*time.Minute), now.Add(-2*time.Minute)) // resolved 2 min ago: held 8 more
	over := notifytest.ThresholdID(period, "globex", "90")
	claim(over, "globex", now.Add(-40*time.Minute), now.Add(-30*time.Minute)) // hold-off over
	first := notifytest.ThresholdID(period, "initech", "90")
	claim(first, "initech", now.Add(-50*time.Minute), now.Add(-45*time.Minute))
	claim(model.EpisodeID(first, 2), "initech", now.Add(-20*time.Minute), time.Time{}) // its second episode fires
	out, errOut, code := runMavtop(t, "alerts", "--redis", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	row := func(id string) string {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 3 && f[3] == id {
				return l
			}
		}
		t.Fatalf("no row for %s:\n%s", id, out)
		return ""
	}
	until := now.Add(-2 * time.Minute).Add(model.DefaultReFireAfter)
	if r := row(held); !strings.HasSuffix(r, "after "+until.Local().Format("15:04:05")) {
		t.Errorf("resolved 2 min ago: %q, want it to end \"after %s\"", r, until.Local().Format("15:04:05"))
	}
	if r := row(over); !strings.HasSuffix(r, "if it holds") {
		t.Errorf("resolved 30 min ago: %q, want \"if it holds\"", r)
	}
	for _, id := range []string{first, model.EpisodeID(first, 2)} {
		if r := row(id); !strings.HasSuffix(r, "—") {
			t.Errorf("%s (followed by a later episode, or firing): %q, want \"—\"", id, r)
		}
	}
	out, _, code = runMavtop(t, "alerts", "--json", "--redis", srv.URL)
	var listed struct {
		Alerts []struct {
			Alert struct {
				ID string `json:"id"`
			} `json:"alert"`
			Again *time.Time `json:"can_fire_again_at"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || code != 0 || len(listed.Alerts) != 4 {
		t.Fatalf("alerts --json: exit %d, %v, %d alerts\n%s", code, err, len(listed.Alerts), out)
	}
	for _, a := range listed.Alerts {
		want, ok := map[string]time.Time{held: until, over: now.Add(-30 * time.Minute).Add(model.DefaultReFireAfter)}[a.Alert.ID]
		switch {
		case ok && (a.Again == nil || !a.Again.Equal(want)):
			t.Errorf("%s: can_fire_again_at %v, want %v", a.Alert.ID, a.Again, want)
		case !ok && a.Again != nil:
			t.Errorf("%s: can_fire_again_at %v, want none", a.Alert.ID, a.Again)
		}
	}
}

// TestAlertsReadRecordsInNanoseconds: alert records stored by the previous
// version hold their durations in nanoseconds ("spare": 23160717362470);
// records are now written in seconds, and an old one is still read: mavtop
// alerts --json gives the same spare_seconds for it, in the record and in its
// delivery.
func TestAlertsReadRecordsInNanoseconds(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	spare := 6*time.Hour + 26*time.Minute + 717362470
	tr := model.AlertTransition{Status: model.AlertFiring, At: now, Alert: model.Alert{
		ID: model.AlertID(period, "acme", "", model.AlertRunOut, ""), Kind: model.AlertRunOut, Period: period,
		Workspace: "acme", Used: 600, Cap: 1000, CapKind: model.CapAllocation, PercentUsed: 60, Level: model.LevelWarn,
		BurnPerHour: 40, RunOutIn: 5 * time.Hour, Spare: spare}}
	if ok, err := feed.NewAlertStore(c, "").Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{}); !ok || err != nil {
		t.Fatalf("claim %v %v", ok, err)
	}
	key := feed.Keys{}.Alerts(period)
	stored, err := c.HGet(ctx, key, tr.Alert.ID).Result()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(stored, `"spare_seconds":23160.71736247`) != 2 || strings.Contains(stored, `"spare":`) {
		t.Fatalf("stored %s: want spare_seconds in the record and its delivery, no nanoseconds", stored)
	}
	old := strings.NewReplacer(`"spare_seconds":23160.71736247`, `"spare":23160717362470`,
		`"run_out_in_seconds":18000`, `"run_out_in":18000000000000`).Replace(stored)
	if strings.Contains(old, "_seconds") {
		t.Fatalf("the old form was not made: %s", old)
	}
	if err := c.HSet(ctx, key, tr.Alert.ID, old).Err(); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
	var listed struct {
		Alerts []struct {
			Alert      map[string]any `json:"alert"`
			Deliveries []struct {
				Transition struct {
					Alert map[string]any `json:"alert"`
				} `json:"transition"`
			} `json:"deliveries"`
		} `json:"alerts"`
		Unreadable int `json:"unreadable"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || code != 0 || len(listed.Alerts) != 1 || len(listed.Alerts[0].Deliveries) != 1 || listed.Unreadable != 0 {
		t.Fatalf("alerts --json: exit %d, %v, %s%s", code, err, out, errOut)
	}
	for name, a := range map[string]map[string]any{"record": listed.Alerts[0].Alert, "delivery": listed.Alerts[0].Deliveries[0].Transition.Alert} {
		if a["spare_seconds"] != 23160.71736247 || a["run_out_in_seconds"] != 18000.0 || a["spare"] != nil || a["percent_shown"] != "60 %" {
			t.Errorf("%s read from the old form: %v", name, a)
		}
	}
}
