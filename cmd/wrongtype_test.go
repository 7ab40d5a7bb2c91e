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

// TestCheckNamesAKeyOfAnotherType: a counter hash or the settings hash SET
// (or used_by, which check walks with HSCAN for a project with a usage limit)
// to a string made check say UNKNOWN "read snapshot: WRONGTYPE …", naming no
// key. Now the key is named once, with what it holds, in the status line and
// --json's reason, for every workspace asked about, exit 3; deleted, OK.
func TestCheckNamesAKeyOfAnotherType(t *testing.T) {
	srv := feedtest.StartReal(t, "WRONGTYPE needs redis-server (CI requires it)")
	ctx := context.Background()
	c := srv.Client()
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	if err := pub.Track(ctx, model.Event{Workspace: "w1", Project: "web", Endpoint: "/r", Credits: 95, Status: 200}); err != nil {
		t.Fatal(err)
	}
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	if err := store.SetWorkspace(ctx, "w1", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	// a usage limit on w1/web: check then reads used_by too (its fields of
	// limited projects, feed.ReadLimitedProjects), a key of another type there
	// is named as in the snapshot's read
	if err := store.SetProject(ctx, "w1", "web", model.ProjectBudget{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	period := model.MonthlyUTC.At(time.Now()).Key
	r := "--redis=" + srv.URL
	k := feed.Keys{}
	keysOf := []string{k.Refused(period), k.Used(period), k.Recharged(period), k.Settings(), k.UsedBy(period)}
	// used_by once more with no project limited: check does not read it
	// then, but the dashboard judges every workspace unknown when it holds
	// another type, so check must not say OK (one judgement)
	keysOf = append(keysOf, "unlimited:"+k.UsedBy(period))
	for _, key := range keysOf {
		name, unlimited := strings.CutPrefix(key, "unlimited:")
		if unlimited {
			key = name
			if err := store.SetProject(ctx, "w1", "web", model.ProjectBudget{}); err != nil {
				t.Fatal(err)
			}
		}
		saved, _ := c.Dump(ctx, key).Result()
		if err := c.Del(ctx, key).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.RPush(ctx, key, "oops").Err(); err != nil {
			t.Fatal(err)
		}
		want := `key "` + key + `" holds a list, not a hash (WRONGTYPE)`
		if unlimited {
			// w1 has no limited project: judged by its own counters (ok,
			// as the dashboard judges it), the key still named for all
			if out, _, code := runMavtop(t, "check", r, "w1"); code != 0 {
				t.Errorf("used_by, no project limited, check w1: exit %d, %q; want 0", code, out)
			}
		}
		for _, args := range [][]string{{}, {"w1"}} {
			if unlimited && len(args) > 0 {
				continue
			}
			out, _, code := runMavtop(t, append([]string{"check", r}, args...)...)
			line, _, _ := strings.Cut(out, "\n")
			if code != 3 || !strings.HasPrefix(line, "MAVTOP UNKNOWN - "+want) || strings.Count(line, key) != 1 {
				t.Errorf("%s, check %v: exit %d, %q; want 3, UNKNOWN naming the key once", key, args, code, line)
			}
			out, _, code = runMavtop(t, append([]string{"check", r, "--json"}, args...)...)
			if got := decodeOne(t, out); code != 3 || got.Status != "unknown" || !strings.Contains(got.Reason, want) {
				t.Errorf("%s, check --json %v: exit %d, %+v", key, args, code, got)
			}
		}
		if err := c.Del(ctx, key).Err(); err != nil {
			t.Fatal(err)
		}
		if saved != "" {
			if err := c.Restore(ctx, key, 0, saved).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if out, _, code := runMavtop(t, "check", r); code != 0 {
			t.Errorf("%s restored: check exit %d, %q; want 0", key, code, out)
		}
	}
}
