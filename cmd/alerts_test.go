package cmd

import (
	"context"
	"encoding/json"
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
	ctx := context.Background()
	now := time.Now()
	period := model.MonthlyUTC.At(now).Key
	tr := model.AlertTransition{Status: model.AlertFiring, At: now, Alert: model.Alert{
		ID: notifytest.ThresholdID(period, "acme", "75"), Kind: model.AlertThreshold, Period: period,
		Workspace: "acme", Threshold: 75, Used: 767, Cap: 1000, CapKind: model.CapAllocation, PercentUsed: 76.7, Level: model.LevelHigh}}
	if ok, err := feed.NewAlertStore(srv.Client(), "").Claim(ctx, tr, tr.Summary(period), feed.ClaimOptions{}); !ok || err != nil {
		t.Fatalf("claim %v %v", ok, err)
	}
	out, errOut, code := runMavtop(t, "alerts", "--json", "--redis", srv.URL)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var listed struct {
		Alerts []struct {
			Alert map[string]any `json:"alert"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Alerts) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	p := notify.NewPayload(&tr, tr.Summary(period))
	if a := listed.Alerts[0].Alert; a["level"] != p.Level || a["cap_kind"] != p.CapKind || a["level"] != "high" {
		t.Errorf("alerts --json: level %v, cap_kind %v; the payload: %q, %q", a["level"], a["cap_kind"], p.Level, p.CapKind)
	}
	if a := listed.Alerts[0].Alert; a["percent_used"] != p.PercentUsed || a["percent_used"] != 76.0 {
		t.Errorf("alerts --json: percent_used %v; the payload and the screen: %v (76 %%)", a["percent_used"], p.PercentUsed)
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
	out, errOut, code := runMavtop(t, "alerts", "--period", "2026-02", "--redis", srv.URL)
	if code != 0 || !strings.Contains(out, "No alerts in billing period 2026-02.") {
		t.Errorf("--period 2026-02: code %d, %s%s", code, out, errOut)
	}
}
