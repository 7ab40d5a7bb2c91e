package cmd

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestAnUnreadable402CountLeavesUsageKnown: each figure is known or unknown
// on its own. w1 has used 95 of 100; its 402 count cannot be read (the refused
// key holds a string, or one refused field holds no integer). check said
// UNKNOWN and budget show USED "unreadable": a known 95 % reported unknown.
// Now check is CRITICAL (95 % used) naming the 402 count that cannot be read,
// --json has used 95 and refused_402 null with refused_unreadable, and budget
// show prints 95 and says on stderr that the 402 count is unknown.
func TestAnUnreadable402CountLeavesUsageKnown(t *testing.T) {
	srv := feedtest.StartReal(t, "WRONGTYPE needs redis-server (CI requires it)")
	ctx := context.Background()
	c := srv.Client()
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	if err := pub.Track(ctx, model.Event{Workspace: "w1", Project: "web", Endpoint: "/r", Credits: 95, Status: 200}); err != nil {
		t.Fatal(err)
	}
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "w1", model.Settings{Allocation: 100}); err != nil {
		t.Fatal(err)
	}
	period := model.MonthlyUTC.At(time.Now()).Key
	refused := feed.Keys{}.Refused(period)
	r := "--redis=" + srv.URL
	for _, tc := range []struct {
		name string
		set  func() error
		want string // in the reason and the row's refused_unreadable
	}{
		{"key of another type", func() error { return c.Set(ctx, refused, "x", 0).Err() },
			`key "` + refused + `" holds a string, not a hash (WRONGTYPE)`},
		{"a field holding no integer", func() error { return c.HSet(ctx, refused, "w1/web/credits_exhausted", "junk").Err() },
			`counter "refused:w1/web/credits_exhausted" cannot be read`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Del(ctx, refused).Err(); err != nil {
				t.Fatal(err)
			}
			if err := tc.set(); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{}, {"w1"}} {
				out, _, code := runMavtop(t, append([]string{"check", r}, args...)...)
				line, _, _ := strings.Cut(out, "\n")
				if code != 2 || !strings.HasPrefix(line, "MAVTOP CRITICAL - w1 95.0 % used") || !strings.Contains(line, tc.want) || !strings.Contains(line, "'w1_used'=95;") || !strings.Contains(line, "'w1_402'=U") {
					t.Errorf("check %v: exit %d, %q; want 2, CRITICAL 95 %% naming the 402 count", args, code, line)
				}
				out, _, code = runMavtop(t, append([]string{"check", r, "--json"}, args...)...)
				var got struct {
					Status     string           `json:"status"`
					Reason     string           `json:"reason"`
					Workspaces []map[string]any `json:"workspaces"`
				}
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("check --json: %v\n%s", err, out)
				}
				if code != 2 || got.Status != "critical" || !strings.Contains(got.Reason, tc.want) || len(got.Workspaces) != 1 {
					t.Fatalf("check --json %v: exit %d, %s", args, code, out)
				}
				w := got.Workspaces[0]
				if w["used"] != 95.0 || w["level"] != "critical" || w["refused_402"] != nil || !strings.Contains(fmt.Sprint(w["refused_unreadable"]), tc.want) {
					t.Errorf("check --json %v: row %v", args, w)
				}
			}
			out, errOut, code := runMavtop(t, "budget", "show", r)
			fields := strings.Fields(strings.Split(out, "\n")[2])
			if code != 0 || len(fields) < 2 || fields[0] != "w1" || fields[1] != "95" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "w1's 402 count is unknown") {
				t.Errorf("budget show: exit %d\n%s\nstderr %s", code, out, errOut)
			}
		})
	}
}
