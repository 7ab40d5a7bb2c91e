package cmd

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// seedLevels makes three workspaces at 10 %, 80 % and 95 % of their allocation,
// plus one without settings.
func seedLevels(t *testing.T, srv *feedtest.Server) {
	t.Helper()
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	for ws, used := range map[string]int64{"calm": 100, "busy": 800, "hot": 950} {
		if err := store.SetWorkspace(ctx, ws, model.Settings{Allocation: 1000}); err != nil {
			t.Fatal(err)
		}
		if err := pub.Track(ctx, model.Event{Workspace: ws, Endpoint: "/responses", Credits: used, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Track(ctx, model.Event{Workspace: "hot", Endpoint: "/mave/chat", Status: 402, Code: "credits_exhausted"}); err != nil {
		t.Fatal(err)
	}
	if err := pub.Track(ctx, model.Event{Workspace: "loose", Endpoint: "/responses", Credits: 42, Status: 200}); err != nil {
		t.Fatal(err)
	}
}

func TestCheckExitCodesFollowTheWorstWorkspace(t *testing.T) {
	srv := feedtest.Start(t)
	seedLevels(t, srv)
	r := "--redis=" + srv.URL
	out, _, code := runMavtop(t, "check", r)
	if code != 2 || !strings.HasPrefix(out, "MAVTOP CRITICAL - hot 95.0% used |") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	for _, want := range []string{"calm", "busy", "loose", "none set", "95.0%", "warning", "critical"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if _, _, code := runMavtop(t, "check", r, "busy"); code != 1 {
		t.Errorf("check busy: exit %d, want 1", code)
	}
	if _, _, code := runMavtop(t, "check", r, "calm", "loose"); code != 0 {
		t.Errorf("check calm loose: exit %d, want 0", code)
	}
	if _, _, code := runMavtop(t, "check", r, "--warn", "96", "--crit", "99"); code != 0 {
		t.Errorf("check with high thresholds: exit %d, want 0", code)
	}

	out, _, code = runMavtop(t, "check", r, "--json")
	var got struct {
		Status     string `json:"status"`
		Code       int    `json:"code"`
		Period     string `json:"period"`
		Workspaces []struct {
			Workspace string  `json:"workspace"`
			Used      int64   `json:"used"`
			Percent   float64 `json:"percent"`
			Level     string  `json:"level"`
			Refused   int64   `json:"refused_402"`
			Check     string  `json:"check"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if code != 2 || got.Status != "critical" || len(got.Workspaces) != 4 {
		t.Fatalf("--json: exit %d, %+v", code, got)
	}
	for _, w := range got.Workspaces {
		if w.Workspace == "hot" && (w.Used != 950 || w.Refused != 1 || w.Check != "critical" || w.Level != "critical") {
			t.Errorf("hot: %+v", w)
		}
		if w.Workspace == "loose" && (w.Used != 42 || w.Level != "no allocation" || w.Check != "ok") {
			t.Errorf("loose: %+v", w)
		}
	}
}

func TestCheckUnreachableRedisIsUnknownAndFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	out, errOut, code := runMavtop(t, "check", "--redis", "redis://"+addr)
	if code != 3 || !strings.Contains(errOut, "MAVTOP UNKNOWN") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3 UNKNOWN", code, out, errOut)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v to give up", d)
	}
}

// TestCheckReadsOnlyWhatItReports: check never reads used_by (per project and
// endpoint, the largest hash): with that key made unreadable as a hash, check
// still reports every workspace at the level it had, while a full snapshot
// read fails on it.
func TestCheckReadsOnlyWhatItReports(t *testing.T) {
	srv := feedtest.Start(t)
	seedLevels(t, srv)
	ctx := context.Background()
	c := srv.Client()
	now := time.Now()
	keys := feed.Keys{}
	p := model.MonthlyUTC.At(now)
	if err := c.Del(ctx, keys.UsedBy(p.Key)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, keys.UsedBy(p.Key), "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := feed.ReadSnapshot(ctx, c, keys, now, model.MonthlyUTC); err == nil {
		t.Fatal("a full snapshot read did not trip on the broken used_by: the test proves nothing")
	}
	out, _, code := runMavtop(t, "check", "--redis="+srv.URL)
	if code != 2 || !strings.HasPrefix(out, "MAVTOP CRITICAL - hot 95.0% used |") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	for _, want := range []string{"calm", "busy", "loose"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
}
