package cmd

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// Whenever a workspace's row is OUT, an alert fires: the credits_exhausted
// refusal alert is the OUT rule itself (a credits_exhausted 402 newer than
// the last credit added), one alert per OUT episode. Before, the recharge
// resolved it ("calls succeed again" — no call had succeeded), the id was
// final for the period, and the 402 after the recharge fired nothing while
// check said CRITICAL. Through `mavtop watch` on a real redis-server, as an
// operator types it; the second half sends the recharge and the 402 at once
// (one judgement sees both).
func TestOutAfterARechargeFiresAgain(t *testing.T) {
	for _, together := range []bool{false, true} {
		name := map[bool]string{false: "a judgement between", true: "recharge and 402 together"}[together]
		t.Run(name, func(t *testing.T) {
			srv := feedtest.Start(t)
			_, stop := startWatch(t, "--redis", srv.URL)
			defer stop()
			mav := func(args ...string) string {
				t.Helper()
				out, errOut, code := runMavtop(t, append(args, "--redis", srv.URL)...)
				if code != 0 && args[0] != "check" {
					t.Fatalf("%v: exit %d: %s%s", args, code, out, errOut)
				}
				return out
			}
			period := model.MonthlyUTC.At(time.Now()).Key
			first := model.AlertID(period, "ord2", "", model.AlertRefusals, model.CodeCreditsExhausted)
			again := model.AlertID(period, "ord2", "", model.AlertRefusals, model.CodeCreditsExhausted+"@150")
			stored := func() map[string]feed.StoredAlert {
				t.Helper()
				out := mav("alerts", "--json")
				var listed struct {
					Alerts []feed.StoredAlert `json:"alerts"`
				}
				if err := json.Unmarshal([]byte(out), &listed); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				m := map[string]feed.StoredAlert{}
				for _, a := range listed.Alerts {
					m[a.Alert.ID] = a
				}
				return m
			}
			status := func(id string, want model.AlertStatus) func() bool {
				return func() bool { a, ok := stored()[id]; return ok && a.Status == want }
			}
			mav("budget", "set", "ord2", "--allocation", "100")
			mav("emit", "--ws", "ord2", "--endpoint", "/r", "--credits", "100")
			mav("emit", "--ws", "ord2", "--endpoint", "/r", "--credits", "0", "--status", "402", "--code", "credits_exhausted")
			waitUntil(t, 30*time.Second, first+" firing", status(first, model.AlertFiring))
			mav("emit", "--ws", "ord2", "--kind", "recharge", "--credits", "50")
			if !together {
				waitUntil(t, 30*time.Second, first+" resolved", status(first, model.AlertResolved))
				if _, ok := stored()[again]; ok {
					t.Fatalf("%s before the second 402", again)
				}
			}
			mav("emit", "--ws", "ord2", "--endpoint", "/r", "--credits", "0", "--status", "402", "--code", "credits_exhausted")
			waitUntil(t, 30*time.Second, again+" firing", status(again, model.AlertFiring))
			waitUntil(t, 30*time.Second, first+" resolved", status(first, model.AlertResolved))

			// check says OUT: a firing alert says so too, and the words say
			// what happened, never that a call succeeded
			if out := mav("check", "ord2"); !strings.HasPrefix(out, "MAVTOP CRITICAL") {
				t.Fatalf("check: %s", out)
			}
			all := stored()
			if a := all[again]; a.Alert.Refused != 2 || a.Alert.Level != model.LevelExhausted || a.Alert.Allocation+a.Alert.Recharged != 150 {
				t.Errorf("the second OUT's alert: %+v", a.Alert)
			}
			out := mav("alerts")
			var lines []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "ord2") {
					lines = append(lines, l)
				}
			}
			text := strings.Join(lines, "\n")
			for _, want := range []string{
				// refused once when the recharge came; twice when the second 402 came with it
				map[bool]string{false: "credit added to ord2: recharge +50, after 402 credits_exhausted (at the time: 1 this period; 150 credits: allocation 100 + recharges 50, 100 credits used)",
					true: "credit added to ord2: recharge +50, after 402 credits_exhausted (at the time: 2 this period; 150 credits: allocation 100 + recharges 50, 100 credits used)"}[together],
				"the API refuses ord2's calls with 402 credits_exhausted (2 this period)",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("alerts lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "succeed") || strings.Contains(text, "gone from the usage counters") {
				t.Errorf("alerts say a call succeeded, or the 402s are gone:\n%s", text)
			}
		})
	}
}
