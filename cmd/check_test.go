package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
	if err := pub.Track(ctx, model.Event{Workspace: "hot", Endpoint: "/mave/chat", Status: 402, Code: "budget_exceeded"}); err != nil { // a credits_exhausted 402 would be OUT whatever the thresholds
		t.Fatal(err)
	}
	// and a call that went through after it: the 402 no longer stands (one
	// that did would hold hot's limit reached, critical whatever the thresholds)
	if err := pub.Track(ctx, model.Event{Workspace: "hot", Endpoint: "/mave/chat", Status: 200}); err != nil {
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
	if code != 2 || !strings.HasPrefix(out, "MAVTOP CRITICAL - hot 95.0 % used |") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	for _, want := range []string{"calm", "busy", "loose", model.Unset, "95.0 %", "warning", "critical"} {
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
		if w.Workspace == "loose" && (w.Used != 42 || w.Level != model.Unset || w.Check != "ok") {
			t.Errorf("loose: %+v", w)
		}
	}
}

// closedPort returns a redis:// URL at which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	return "redis://" + addr + "/0"
}

func TestCheckUnreachableRedisIsUnknownAndFast(t *testing.T) {
	url := closedPort(t)
	start := time.Now()
	out, _, code := runMavtop(t, "check", "--redis", url)
	if code != 3 || !strings.HasPrefix(out, "MAVTOP UNKNOWN - Redis cannot be read: ") || !strings.Contains(out, "connection refused") || strings.Count(out, "\n") != 1 {
		t.Errorf("exit %d, stdout %q; want 3 and one UNKNOWN status line on stdout", code, out)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v to give up", d)
	}
}

// checkJSON is the part of check --json every answer has.
type checkJSON struct {
	Status     string `json:"status"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	Workspaces []struct {
		Workspace   string     `json:"workspace"`
		LastEventAt *time.Time `json:"last_event_at"`
		Stale       bool       `json:"stale"`
		Check       string     `json:"check"`
	} `json:"workspaces"`
}

// decodeOne decodes stdout as exactly one JSON object.
func decodeOne(t *testing.T, out string) checkJSON {
	t.Helper()
	var got checkJSON
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout %q is no JSON object: %v", out, err)
	}
	if dec.More() {
		t.Fatalf("stdout %q holds more than one JSON object", out)
	}
	return got
}

// TestCheckIsUnknownWhenItCannotJudge: a workspace named that does not exist,
// no workspace at all (an empty Redis, a wrong key prefix, a wrong db), a usage
// error and a Redis that cannot be read are all UNKNOWN (exit 3) with a reason,
// the status line on stdout, and with --json exactly one object with status
// and reason; never OK ("0 workspaces") and never 2, which a monitor reads as
// CRITICAL.
func TestCheckIsUnknownWhenItCannotJudge(t *testing.T) {
	srv := feedtest.Start(t)
	seedLevels(t, srv)
	empty := feedtest.Start(t)
	r := "--redis=" + srv.URL
	for _, tc := range []struct {
		name   string
		args   []string
		reason string
	}{
		{"named workspace missing", []string{r, "nosuch"}, "no such workspace: nosuch"},
		// beside an OK one (beside a CRITICAL one it is CRITICAL:
		// TestCriticalIsNotHiddenByUnknown)
		{"one of two named missing", []string{r, "calm", "nosuch"}, "no such workspace: nosuch"},
		// a project, as the table's rows name it: not "no such workspace"
		// (rev11: check acme/research said acme/research had no settings)
		{"a project named", []string{r, "calm/research"}, "calm/research is a project, not a workspace: check calm judges calm"},
		{"empty Redis", []string{"--redis=" + empty.URL}, "no workspace found"},
		{"wrong key prefix", []string{r, "--key-prefix", "{maverra}"}, "no workspace found"},
		{"wrong db", []string{"--redis=" + strings.TrimSuffix(srv.URL, "/0") + "/3"}, "no workspace found"},
		// a feed with no event for --stale is no WARNING where nothing is
		// judged (before: WARNING "no event for over 1ms", exit 1)
		{"named workspace missing, --stale", []string{r, "--stale", "1ms", "nosuch"}, "no such workspace: nosuch"},
		{"empty Redis, --stale", []string{"--redis=" + empty.URL, "--stale", "1ms"}, "no workspace found"},
		{"wrong key prefix, --stale", []string{r, "--key-prefix", "{maverra}", "--stale", "1ms"}, "no workspace found"},
		{"unknown flag", []string{r, "--bogus"}, "unknown flag: --bogus"},
		{"bad flag value", []string{r, "--warn", "lots"}, "--warn"},
		{"warn above crit", []string{r, "--warn", "95", "--crit", "80"}, "want 0 < warn ≤ crit ≤ 100"},
		{"NaN --warn", []string{r, "--warn", "NaN", "--crit", "90"}, "want 0 < warn ≤ crit ≤ 100"},
		{"NaN --crit", []string{r, "--warn", "50", "--crit", "NaN"}, "want 0 < warn ≤ crit ≤ 100"},
		{"infinite --crit", []string{r, "--warn", "50", "--crit", "Inf"}, "want 0 < warn ≤ crit ≤ 100"},
		{"bad --stale", []string{r, "--stale", "soon"}, "--stale"},
		{"negative --stale", []string{r, "--stale", "-1s"}, "--stale -1s: want a positive duration"},
		// none of these was refused: --stale 0 judged no staleness, --crit
		// 101 judged as 100, --redis-timeout 0 failed as "Redis cannot be
		// read", --counter-poll 0 was 5 s (badDuration, issue 11 deliver 6)
		{"zero --stale", []string{r, "--stale", "0"}, "--stale 0s: want a positive duration (leave it out for none)"},
		{"--crit above 100", []string{r, "--crit", "101"}, "--warn 75 and --crit 101: want 0 < warn ≤ crit ≤ 100"},
		{"--warn above 100", []string{r, "--warn", "150"}, "--warn 150 and --crit 100: want 0 < warn ≤ crit ≤ 100"},
		{"negative --warn", []string{r, "--warn", "-5"}, "--warn -5 and --crit 90: want 0 < warn ≤ crit ≤ 100"},
		{"zero --crit", []string{r, "--crit", "0"}, "want 0 < warn ≤ crit ≤ 100"},
		{"zero --redis-timeout", []string{r, "--redis-timeout", "0"}, "--redis-timeout 0s: want a positive duration (leave it out for the default, 5s)"},
		{"negative --redis-timeout", []string{"--redis=" + closedPort(t), "--redis-timeout", "-1s"}, "--redis-timeout -1s: want a positive duration"},
		{"zero --counter-poll", []string{r, "--counter-poll", "0s"}, "--counter-poll 0s: want a positive duration"},
		// several mistakes in one flag: one line, the parts apart ("; "), not glued
		{"descending --default-alerts", []string{r, "--default-alerts", "9,8,7"}, "--default-alerts: alert thresholds must ascend, got 9,8,7"},
		{"out of range --default-alerts", []string{r, "--default-alerts", "0,200,300"},
			"alert threshold 0% must be between 1 and 99; alert threshold 200% must be between 1 and 99; alert threshold 300% must be between 1 and 99"},
		{"Redis down", []string{"--redis=" + closedPort(t)}, "Redis cannot be read"},
		// a usage error, not "Redis cannot be read", whether Redis is up or not
		{"bad --source", []string{"--redis=" + closedPort(t), "--source", "bogus"}, `source "bogus": want auto, stream or counters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"check"}, tc.args...)
			out, errOut, code := runMavtop(t, args...)
			if code != 3 || !strings.HasPrefix(out, "MAVTOP UNKNOWN - ") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], tc.reason) {
				t.Errorf("%v: exit %d, stdout %q; want 3, an UNKNOWN status line saying %q", tc.args, code, out, tc.reason)
			}
			// an error (not a verdict on what was read: that has its table) is
			// one line, on stdout and on stderr alike
			if errOut != "" && (strings.Count(out, "\n") != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.reason)) {
				t.Errorf("%v: stdout %q, stderr %q; want one line each, saying %q", tc.args, out, errOut, tc.reason)
			}
			// --json anywhere on the line, before or after the mistake
			for _, js := range [][]string{append([]string{"check", "--json"}, tc.args...), append(args, "--json")} {
				out, _, code := runMavtop(t, js...)
				got := decodeOne(t, out)
				if code != 3 || got.Status != "unknown" || got.Code != 3 || !strings.Contains(got.Reason, tc.reason) {
					t.Errorf("%v: exit %d, %+v; want 3, status unknown, reason saying %q", js, code, got, tc.reason)
				}
			}
		})
	}
	// the workspaces that do exist are still reported beside the missing one
	out, _, _ := runMavtop(t, "check", r, "--json", "hot", "nosuch")
	if got := decodeOne(t, out); len(got.Workspaces) != 1 || got.Workspaces[0].Workspace != "hot" || got.Workspaces[0].Check != "critical" {
		t.Errorf("hot beside nosuch: %+v", got)
	}
}

// TestCheckUnknownOnUnreadableSettings: a workspace judged whose settings
// field cannot be read (no JSON, an allocation out of range), or a billing
// period config that cannot be, is UNKNOWN with the field named: judged
// without them the workspace read "no allocation", OK, for ever. A workspace
// named whose settings are fine is still judged.
func TestCheckUnknownOnUnreadableSettings(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	for _, ws := range []string{"broken", "fine"} {
		if err := pub.Track(ctx, model.Event{Workspace: ws, Endpoint: "/responses", Credits: 950, Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	if err := feed.NewSettingsStore(c, feed.StoreOptions{}).SetWorkspace(ctx, "fine", model.Settings{Allocation: 10000}); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, feed.Keys{}.Settings(), "broken", `{"allocation":1000`).Err(); err != nil {
		t.Fatal(err)
	}
	r := "--redis=" + srv.URL
	for _, args := range [][]string{{}, {"broken"}, {"broken", "fine"}} {
		out, _, code := runMavtop(t, append([]string{"check", r}, args...)...)
		if code != 3 || !strings.HasPrefix(out, `MAVTOP UNKNOWN - settings "broken" cannot be read`) {
			t.Errorf("check %v: exit %d, %q; want 3, UNKNOWN naming the settings of broken", args, code, out)
		}
		out, _, code = runMavtop(t, append([]string{"check", r, "--json"}, args...)...)
		if got := decodeOne(t, out); code != 3 || got.Status != "unknown" || !strings.Contains(got.Reason, `settings "broken" cannot be read`) {
			t.Errorf("check --json %v: exit %d, %+v", args, code, got)
		}
	}
	if out, _, code := runMavtop(t, "check", r, "fine"); code != 0 || !strings.HasPrefix(out, "MAVTOP OK - ") {
		t.Errorf("check fine: exit %d, %q; want 0: its own settings are fine", code, out)
	}
	if err := c.HSet(ctx, feed.Keys{}.Settings(), "#period", `{"start_day":99}`).Err(); err != nil {
		t.Fatal(err)
	}
	if out, _, code := runMavtop(t, "check", r, "fine"); code != 3 || !strings.Contains(out, `period config unreadable (billing period config {"start_day":99}: start day 99 must be between 1 and 28)`) {
		t.Errorf("check fine with a bad period config: exit %d, %q; want 3 naming #period", code, out)
	}
}

// TestCheckStale: --stale D is WARNING when the stream's newest entry is older
// than D (the feed stopped), or, for workspaces named, when one of them has no
// event that recent; every row carries its newest event's time, the ts the
// producer wrote.
func TestCheckStale(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	keys := feed.Keys{}
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	now := time.Now()
	// a rule that puts now mid-period: the events 20 minutes old are in it at
	// any hour (in a month's first 20 minutes they were not, and the test
	// skipped its first hour)
	cfg := model.MidPeriod(now)
	if err := store.SetPeriod(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	rule, err := cfg.Rule()
	if err != nil {
		t.Fatal(err)
	}
	p := rule.At(now)
	old := now.Add(-20 * time.Minute).UnixMilli()
	if err := store.SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	// the settings entry is no usage event: drop it, so the stream's newest entry is old
	if err := c.Del(ctx, keys.Stream()).Err(); err != nil {
		t.Fatal(err)
	}
	// an event as a producer left it: counters and entry, id and ts from then
	add := func(ws string, ts int64, id string) {
		t.Helper()
		if err := c.HIncrBy(ctx, keys.Used(p.Key), ws, 100).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), ID: id, Values: []any{"v", 1, "ts", ts, "ws", ws, "endpoint", "/responses", "credits", 100, "status", 200}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	add("acme", old, fmt.Sprintf("%d-1", old))
	r := "--redis=" + srv.URL

	out, _, code := runMavtop(t, "check", r, "--stale", "10m")
	if code != 1 || !strings.HasPrefix(out, "MAVTOP WARNING - no event for 20 min (--stale 10m0s)") {
		t.Errorf("feed silent 20 min, --stale 10m: exit %d\n%s", code, out)
	}
	out, _, code = runMavtop(t, "check", r, "--stale", "10m", "--json")
	got := decodeOne(t, out)
	if code != 1 || got.Status != "warning" || !strings.Contains(got.Reason, "no event for 20 min") || len(got.Workspaces) != 1 ||
		got.Workspaces[0].LastEventAt == nil || got.Workspaces[0].LastEventAt.UnixMilli() != old || !got.Workspaces[0].Stale {
		t.Errorf("--json: exit %d, %+v", code, got)
	}
	if out, _, code := runMavtop(t, "check", r, "--stale", "1h"); code != 0 || !strings.HasPrefix(out, "MAVTOP OK - 1 workspace, period") {
		t.Errorf("--stale 1h: exit %d\n%s", code, out)
	}
	if out, _, code := runMavtop(t, "check", r); code != 0 || !strings.Contains(out, "20 min") {
		t.Errorf("no --stale: exit %d, the row's last event should read 20 min:\n%s", code, out)
	}

	// a fresh workspace keeps the feed alive; acme alone is flagged, and
	// WARNING only when named
	nowMs := time.Now().UnixMilli()
	add("beta", nowMs, "*")
	out, _, code = runMavtop(t, "check", r, "--stale", "10m", "--json")
	got = decodeOne(t, out)
	if code != 0 || got.Status != "ok" {
		t.Errorf("feed alive: exit %d, %+v", code, got)
	}
	for _, w := range got.Workspaces {
		if w.LastEventAt == nil || (w.Workspace == "acme") != w.Stale ||
			w.Workspace == "acme" && w.LastEventAt.UnixMilli() != old || w.Workspace == "beta" && w.LastEventAt.UnixMilli() != nowMs {
			t.Errorf("row %+v", w)
		}
	}
	if out, _, code := runMavtop(t, "check", r, "--stale", "10m", "acme"); code != 1 || !strings.Contains(out, "no event for over 10m0s from acme") {
		t.Errorf("acme named: exit %d\n%s", code, out)
	}
	if _, _, code := runMavtop(t, "check", r, "--stale", "10m", "beta"); code != 0 {
		t.Errorf("beta named: exit %d", code)
	}
}

// TestCheckReadsOnlyWhatItReports: check never reads used_by (per project and
// endpoint, the largest hash) when no project has a usage limit: with that
// key made unreadable as a hash, check still reports every workspace at the
// level it had and names the key (from its TYPE), while a full snapshot read
// trips on it.
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
	if res, err := feed.ReadSnapshot(ctx, c, keys, now, model.MonthlyUTC); err != nil || len(res.BadKeys) != 1 {
		t.Fatal("a full snapshot read did not trip on the broken used_by: the test proves nothing")
	}
	out, _, code := runMavtop(t, "check", "--redis="+srv.URL)
	// no project has a usage limit: no workspace depends on used_by, each is
	// judged by its own counters, and the key of another type is named (its
	// TYPE asked, never its fields read), as the dashboard names it
	want := `MAVTOP CRITICAL - hot 95.0 % used; key "` + keys.UsedBy(p.Key) + `" holds a string, not a hash (WRONGTYPE)`
	if code != 2 || !strings.HasPrefix(out, want) {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	for _, want := range []string{"calm", "busy", "loose"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckJSONWrittenByRowIsJSONEncode: check --json writes its rows one at
// a time (no 40 MB buffer at 100k workspaces); the bytes are those of one
// json.Encode of the whole object, with rows, without and empty.
func TestCheckJSONWrittenByRowIsJSONEncode(t *testing.T) {
	rem, at := int64(5), time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rows := []wsRow{{Workspace: "a<b", Used: 95, Cap: 100, Percent: 95, Thresholds: []int{50, 75, 90}, Level: "critical", Remaining: &rem},
		{Workspace: "z", Settings: model.Settings{Allocation: 10, Alerts: []int{20}}, LastEventAt: &at}}
	// and enough rows for several blocks encoded two at once, the last short
	many := make([]wsRow, 4*jsonBlock+3)
	for i := range many {
		many[i] = rows[i%2]
		many[i].Workspace = fmt.Sprintf("w%05d", i)
		many[i].Used = int64(i)
	}
	for _, rs := range [][]wsRow{rows, nil, {}, many} {
		obj := map[string]any{"status": "ok", "code": 0, "reason": "x & y", "warn": 75.0, "crit": 90.0, "period": "2026-11"}
		var got, want bytes.Buffer
		if err := writeCheckJSON(&got, obj, rs); err != nil {
			t.Fatal(err)
		}
		obj["workspaces"] = rs
		if err := json.NewEncoder(&want).Encode(obj); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%d rows:\n got %s\nwant %s", len(rs), got.String(), want.String())
		}
	}
	// a row json.Marshal refuses, in either block of a pair: its error
	for _, at := range []int{5, jsonBlock + 5, 3 * jsonBlock} {
		bad := slices.Clone(many)
		bad[at].Percent = math.Inf(1)
		_, want := json.Marshal(bad)
		err := writeCheckJSON(io.Discard, map[string]any{}, bad)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("row %d not finite: error %v, json.Marshal's %v", at, err, want)
		}
	}
}

// fillAll sets every exported field of v (a pointer to a struct), down
// through structs, pointers and slices, to a value that is not its zero: a
// field added to a row later is then written by json.Marshal and must be by
// appendRowJSON too. Strings carry what JSON must escape.
func fillAll(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillAll(v.Elem(), seed)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC).Add(time.Duration(seed) * time.Second)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(v.Field(i), seed+i)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillAll(v.Index(0), seed+1)
		fillAll(v.Index(1), seed+2)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d <&> \"q\" \\ \n\t\x01\x1f \u2028\u2029 é \xff\xfe ✓", seed))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed*7919 + 3))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(seed*7919 + 3))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(seed) + 0.1)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic(fmt.Sprintf("fillAll: no value for a %s", v.Kind()))
	}
}

// TestCheckJSONIsEncodingJSON: check --json's hand-written row encoder writes
// what json.Marshal writes, byte for byte — for a row with every field set
// (so a field added to wsRow, projectRow, model.Settings or
// model.ProjectBudget and not written fails here), for zero and omitted
// fields, hostile names, floats at encoding/json's format edges — and refuses
// what json.Marshal refuses, with its error.
func TestCheckJSONIsEncodingJSON(t *testing.T) {
	var full wsRow
	fillAll(reflect.ValueOf(&full), 1)
	if full.Remaining == nil || full.LastEventAt == nil || len(full.Projects) != 2 || full.Settings.RaisedAt == 0 || full.Projects[1].Budget.Limit == 0 {
		t.Fatalf("fillAll left fields unset: %+v", full)
	}
	readable := full // every field written by appendRowJSON itself, not the unreadable row's nulls
	readable.Unreadable = ""
	rows := []wsRow{full, readable, {}, {Thresholds: []int{}, Projects: []projectRow{}, Settings: model.Settings{Alerts: []int{}}}}
	for _, f := range []float64{0, math.Copysign(0, -1), 1e-7, -1e-7, 1e-6, 0.1, 95.04999999, 100, 1e20, 1e21, -1e21, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		r := wsRow{Workspace: "ws", Percent: f, LimitPercent: -f, Projects: []projectRow{{Project: "p", Percent: f, Budget: model.ProjectBudget{Alert: 3}}}}
		rows = append(rows, r)
	}
	for _, name := range []string{"", "a<b>&c", "tab\there", "\x00\x7f", "\u2028\u2029", "\xff", "é✓💸", `"\/`, "\u00e9\xed\xa0\x80"} {
		rows = append(rows, wsRow{Workspace: name, Level: name, Verdict: name, VerdictProject: name, Check: name, Stale: true,
			Projects: []projectRow{{Project: name, Level: name, Check: name}}})
	}
	for i := range rows {
		want, wantErr := json.Marshal(rows[i])
		got, err := appendRowJSON([]byte("x"), &rows[i])
		if wantErr != nil || err != nil {
			t.Fatalf("row %d: error %v, json.Marshal's %v", i, err, wantErr)
		}
		if string(got) != "x"+string(want) {
			t.Fatalf("row %d:\n got %s\nwant x%s", i, got, want)
		}
	}
	// what json.Marshal refuses is refused alike
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range []wsRow{{Percent: math.NaN()}, {LimitPercent: math.Inf(1)}, {Projects: []projectRow{{Percent: math.Inf(-1)}}}, {LastEventAt: &far}} {
		_, wantErr := json.Marshal(r)
		_, err := appendRowJSON(nil, &r)
		if wantErr == nil || err == nil || err.Error() != wantErr.Error() {
			t.Fatalf("bad row %d: error %v, json.Marshal's %v", i, err, wantErr)
		}
	}
}

// TestCheckSaysWhyAWorkspaceCannotBeJudged: a workspace whose counter holds no
// integer exists (its key or field is there): check says the counter is
// unreadable, naming it, not "no such workspace", for the Pattern 1 counters
// and the stream contract's alike, named or not; exit 3 either way. When no
// workspace is found the reason names the flags that choose where check
// looks: --counter-pattern for the counters, --key-prefix for the settings
// and the stream's counters, both under --source auto.
func TestCheckSaysWhyAWorkspaceCannotBeJudged(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "mavera:credits_used:current_period:acme", 40, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "mavera:credits_used:current_period:broken", "lots", 0).Err(); err != nil {
		t.Fatal(err)
	}
	streamSrv := feedtest.Start(t)
	sc := streamSrv.Client()
	period := model.MonthlyUTC.At(time.Now()).Key
	if err := sc.HSet(ctx, feed.Keys{}.Used(period), "acme", 40, "broken", "12abc").Err(); err != nil {
		t.Fatal(err)
	}
	empty := feedtest.Start(t)
	for _, tc := range []struct {
		name string
		args []string
		// want is in the reason, not is not
		want, not string
	}{
		{"counters, named", []string{"--redis=" + srv.URL, "--source", "counters", "broken"},
			`counter "mavera:credits_used:current_period:broken" cannot be read ("lots" is not an integer)`, "no such workspace"},
		{"counters, all", []string{"--redis=" + srv.URL, "--source", "counters"},
			`counter "mavera:credits_used:current_period:broken" cannot be read`, "no workspace found"},
		{"counters, named beside a good one", []string{"--redis=" + srv.URL, "--source", "counters", "acme", "broken"},
			`counter "mavera:credits_used:current_period:broken" cannot be read`, "no such workspace"},
		{"stream, named", []string{"--redis=" + streamSrv.URL, "--source", "stream", "broken"},
			`counter "used:broken" cannot be read ("12abc" is not an integer)`, "no such workspace"},
		{"counters, missing", []string{"--redis=" + srv.URL, "--source", "counters", "nosuch"},
			"no such workspace: nosuch (no key matches --counter-pattern mavera:credits_used:current_period:* for it", "cannot be read"},
		{"counters, none", []string{"--redis=" + empty.URL, "--source", "counters"},
			"no key matches --counter-pattern mavera:credits_used:current_period:* and the settings under key prefix {mavera} are empty in this db; check --counter-pattern, --key-prefix", ""},
		{"auto, none", []string{"--redis=" + empty.URL},
			"check --key-prefix, --counter-pattern and the db", ""},
		{"stream, none", []string{"--redis=" + empty.URL, "--source", "stream"},
			"check --key-prefix and the db in --redis", "--counter-pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, code := runMavtop(t, append([]string{"check", "--json"}, tc.args...)...)
			got := decodeOne(t, out)
			if code != 3 || got.Status != "unknown" || !strings.Contains(got.Reason, tc.want) || tc.not != "" && strings.Contains(got.Reason, tc.not) {
				t.Errorf("exit %d, status %q, reason %q; want 3, unknown, a reason saying %q and not %q", code, got.Status, got.Reason, tc.want, tc.not)
			}
		})
	}
}

// Settings with several bad fields are named on the status line's one line:
// errors.Join put each on a line of its own, so a monitor read the status cut
// after the first and the perfdata as long text.
func TestCheckStatusLineIsOneLineWithSeveralBadSettings(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "mavera:credits_used:current_period:big", 40, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, feed.Keys{}.Settings(), "big", `{"allocation":9223372036854775807,"usage_limit":9223372036854775807}`).Err(); err != nil {
		t.Fatal(err)
	}
	out, _, code := runMavtop(t, "check", "--redis="+srv.URL, "--source", "counters", "big")
	first, _, _ := strings.Cut(out, "\n")
	if code != 3 || !strings.HasPrefix(first, "MAVTOP UNKNOWN - ") || !strings.Contains(first, "allocation 9223372036854775807 must be") ||
		!strings.Contains(first, "usage limit 9223372036854775807 must be") || !strings.Contains(first, "| 'big_used'=40;;;0; ") {
		t.Errorf("exit %d, status line %q; want 3 and one line naming both bad fields, then the perfdata (40 used, read; no cap: it is unknown)", code, first)
	}
}

// A workspace with settings whose counter cannot be read is no "0 … ok" row
// and no 'ws_used'=0 in the perfdata: its row says unreadable and unknown, the
// perfdata U (the plugin guidelines' "cannot be determined"), for the Pattern 1
// counters and the stream contract's alike. A counter at 2^63-1 against an
// allocation of 500 (1.8×10^18 %) is written ">9999 %", not its 19 digits.
func TestCheckRowsOfUnreadableAndHugeCounters(t *testing.T) {
	ctx := context.Background()
	counters := feedtest.Start(t)
	cc := counters.Client()
	stream := feedtest.Start(t)
	sc := stream.Client()
	period := model.MonthlyUTC.At(time.Now()).Key
	for _, c := range []redis.UniversalClient{cc, sc} {
		if err := c.HSet(ctx, feed.Keys{}.Settings(), "broken", `{"allocation":1000}`, "huge", `{"allocation":500}`, "fine", `{"allocation":100}`).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// orphan has no settings: known only by its unreadable counter (the
	// common Pattern 1 case), it had no row and no perfdata at all
	for k, v := range map[string]any{"broken": "lots", "huge": int64(math.MaxInt64), "fine": 10, "orphan": "x"} {
		if err := cc.Set(ctx, "mavera:credits_used:current_period:"+k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.HSet(ctx, feed.Keys{}.Used(period), "broken", "lots", "huge", int64(math.MaxInt64), "fine", 10, "orphan", "x").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ source, url, counter string }{
		{"counters", counters.URL, "mavera:credits_used:current_period:broken"},
		{"stream", stream.URL, "used:broken"},
	} {
		t.Run(tc.source, func(t *testing.T) {
			out, _, code := runMavtop(t, "check", "--redis="+tc.url, "--source", tc.source)
			status, table, _ := strings.Cut(out, "\n")
			// CRITICAL (huge) ranks above UNKNOWN (broken), whose reason is said
			if code != 2 || !strings.HasPrefix(status, "MAVTOP CRITICAL - ") || !strings.Contains(status, tc.counter+`" cannot be read`) || !strings.Contains(status, "'broken_used'=U;;;0;1000 ") ||
				strings.Contains(status, "'broken_used'=0") || !strings.Contains(status, "'fine_used'=10;;;0;100 ") ||
				!strings.Contains(status, "'huge_used'=9223372036854775807;;;0;500 ") || !strings.Contains(status, "huge >9999 % used") ||
				!strings.Contains(status, "'orphan_used'=U;;;0; ") {
				t.Errorf("exit %d, status line %q; want 2, CRITICAL naming the counter that cannot be read, broken's usage U, huge >9999 %%", code, status)
			}
			rows := map[string][]string{}
			for _, line := range strings.Split(table, "\n") {
				if f := strings.Fields(line); len(f) > 0 {
					rows[f[0]] = f
				}
			}
			if got, want := strings.Join(rows["broken"], " "), "broken unreadable 1000 - unknown - — unknown"; got != want {
				t.Errorf("broken's row %q, want %q", got, want)
			}
			if got, want := strings.Join(rows["orphan"], " "), "orphan unreadable unset - unknown - — unknown"; got != want {
				t.Errorf("orphan's row %q, want %q", got, want)
			}
			if got, want := strings.Join(rows["huge"], " "), "huge 9223372036854775807 500 >9999 % exhausted 0 — critical"; got != want {
				t.Errorf("huge's row %q, want %q", got, want)
			}
			if got, want := strings.Join(rows["fine"], " "), "fine 10 100 10 % ok 0 — ok"; got != want {
				t.Errorf("fine's row %q, want %q", got, want)
			}

			out, _, _ = runMavtop(t, "check", "--json", "--redis="+tc.url, "--source", tc.source)
			var got struct {
				Workspaces []struct {
					Workspace, Level, Check, Verdict, Unreadable string
					Remaining                                    *int64
				}
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			for _, w := range got.Workspaces {
				bad := w.Workspace == "broken" || w.Workspace == "orphan"
				if bad != (w.Level == "unknown" && w.Check == "unknown" && w.Verdict == "unknown" && w.Remaining == nil && strings.Contains(w.Unreadable, strings.Replace(tc.counter, "broken", w.Workspace, 1))) {
					t.Errorf("%+v: unreadable %v", w, bad)
				}
			}
			if len(got.Workspaces) != 4 {
				t.Errorf("JSON rows %+v, want broken, fine, huge and orphan", got.Workspaces)
			}
		})
	}
}

// TestCheckSaysAgesAsTheDashboard: a row whose newest event is under a second
// old reads "now" in LAST EVENT, as the dashboard's age column says (check said
// "0 s"), and older ones in the dashboard's words.
func TestCheckSaysAgesAsTheDashboard(t *testing.T) {
	now := time.Now()
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	rows := []wsRow{{Workspace: "fresh", LastEventAt: at(300 * time.Millisecond)}, {Workspace: "older", LastEventAt: at(90 * time.Second)}}
	var b strings.Builder
	if err := printCheck(&b, rows, checkOK, "2 workspaces", now, false, 0, 0); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && f[0] == "fresh" && !strings.Contains(l, " now "):
			t.Errorf("fresh row %q: want its last event now", l)
		case len(f) > 0 && f[0] == "older" && !strings.Contains(l, " 1 min "):
			t.Errorf("older row %q: want 1 min", l)
		}
	}
}

// TestCheckWithNoWorkspaceHasNoEmptyPerfdata: check on an empty Redis (and
// on a db or a prefix with nothing in it) is UNKNOWN with its reason and
// prints that one line: no trailing "| " (perfdata with nothing after the
// pipe, which Nagios parsers reject) and no table header over no rows. With
// workspaces, every perfdata token is 'label'=value[UOM];warn;crit;min;max.
func TestCheckWithNoWorkspaceHasNoEmptyPerfdata(t *testing.T) {
	empty := feedtest.Start(t)
	for _, args := range [][]string{{"check", "--redis=" + empty.URL}, {"check", "--redis=" + empty.URL, "--key-prefix", "{none}"}} {
		out, _, code := runMavtop(t, args...)
		if code != 3 || strings.Count(out, "\n") != 1 || strings.Contains(out, "|") || strings.Contains(out, "WORKSPACE") ||
			!strings.HasPrefix(out, "MAVTOP UNKNOWN - no workspace found") {
			t.Errorf("%v: exit %d, stdout %q; want 3 and the one UNKNOWN line, no pipe, no table", args, code, out)
		}
	}
	srv := feedtest.Start(t)
	seedLevels(t, srv)
	out, _, _ := runMavtop(t, "check", "--redis="+srv.URL)
	head, perf, ok := strings.Cut(strings.SplitN(out, "\n", 2)[0], " | ")
	token := regexp.MustCompile(`^'[^']+'=(-?[0-9.]+|U)(c|%|s|ms|us|B|KB|MB|GB|TB)?(;[0-9.]*){0,4}$`)
	if !ok || strings.TrimSpace(perf) == "" || !strings.HasPrefix(head, "MAVTOP ") {
		t.Fatalf("status line %q: want a status and perfdata", out)
	}
	for _, tok := range strings.Fields(perf) {
		if !token.MatchString(tok) {
			t.Errorf("perfdata token %q is not Nagios perfdata", tok)
		}
	}
}

// TestBudgetShowAndCheckGiveOneLastEventTime: budget show --json and check
// --json give each workspace the same last event time — the newest entry of
// it in the stream (budget show said null where check gave a time) — and
// both null for a workspace with settings and no event.
func TestBudgetShowAndCheckGiveOneLastEventTime(t *testing.T) {
	srv := feedtest.Start(t)
	seedLevels(t, srv)
	if err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{}).SetWorkspace(context.Background(), "quiet", model.Settings{Allocation: 500}); err != nil {
		t.Fatal(err)
	}
	r := "--redis=" + srv.URL
	times := func(args ...string) map[string]*time.Time {
		out, errOut, _ := runMavtop(t, args...)
		got := decodeOne(t, out)
		m := map[string]*time.Time{}
		for _, w := range got.Workspaces {
			m[w.Workspace] = w.LastEventAt
		}
		if len(m) != 5 {
			t.Fatalf("%v: %d workspaces (%s, %s); want 5", args, len(m), out, errOut)
		}
		return m
	}
	check, budget := times("check", r, "--json"), times("budget", "show", r, "--json")
	for ws, c := range check {
		b := budget[ws]
		if (ws == "quiet") != (c == nil) || (c == nil) != (b == nil) || c != nil && !c.Equal(*b) {
			t.Errorf("%s: check last_event_at %v, budget show %v; want one time (null only for quiet)", ws, c, b)
		}
	}
}

// TestCheckSaysARefusedWorkspaceIsRefused: a workspace OUT because the API
// refused it with credits_exhausted, below its cap or with none, was
// "MAVTOP CRITICAL - acme 0 % used", a reason that read as if nothing were
// wrong. It names the refusal, and the percent only when there is a cap.
func TestCheckSaysARefusedWorkspaceIsRefused(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	store := feed.NewSettingsStore(c, feed.StoreOptions{})
	pub := feed.NewPublisher(c, feed.PublisherOptions{})
	if err := store.SetWorkspace(ctx, "half", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []model.Event{
		{Workspace: "nocap", Endpoint: "/responses", Credits: 120, Status: 200},
		{Workspace: "half", Endpoint: "/responses", Credits: 300, Status: 200},
		{Workspace: "nocap", Endpoint: "/mave/chat", Status: 402, Code: model.CodeCreditsExhausted},
		{Workspace: "half", Endpoint: "/mave/chat", Status: 402, Code: model.CodeCreditsExhausted},
	} {
		if err := pub.Track(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	r := "--redis=" + srv.URL
	for ws, want := range map[string]string{
		"nocap": "MAVTOP CRITICAL - nocap refused with 402 credits_exhausted |",
		"half":  "MAVTOP CRITICAL - half refused with 402 credits_exhausted at 30 % used |",
	} {
		out, _, code := runMavtop(t, "check", r, ws)
		if code != 2 || !strings.HasPrefix(out, want) {
			t.Errorf("check %s: exit %d, want 2 and %q:\n%s", ws, code, want, out)
		}
	}
}

// An argument no workspace can be named is a usage error naming the id rule
// (model.IsID), UNKNOWN and exit 3, in text and --json: it said "no such
// workspace:  (none has counters …)", as if it had been looked for (issue 11).
func TestCheckRefusesANameNoWorkspaceCanHave(t *testing.T) {
	srv := feedtest.Start(t)
	seedLevels(t, srv)
	r := "--redis=" + srv.URL
	for _, bad := range []string{"", "bad ws!", strings.Repeat("x", model.MaxIDLen+1), "calm/bad project", "/p"} {
		out, _, code := runMavtop(t, "check", r, "calm", bad)
		if code != 3 || !strings.HasPrefix(out, "MAVTOP UNKNOWN - ") || !strings.Contains(out, "is not a workspace id: want 1–64 of [A-Za-z0-9._:-]") ||
			strings.Contains(out, "no such workspace") || strings.Count(out, "\n") != 1 {
			t.Errorf("check calm %q: exit %d\n%s", bad, code, out)
		}
		js, _, code := runMavtop(t, "check", r, "--json", bad)
		if got := decodeOne(t, js); code != 3 || got.Status != "unknown" || !strings.Contains(got.Reason, "is not a workspace id") {
			t.Errorf("check --json %q: exit %d %+v", bad, code, got)
		}
	}
	if out, _, code := runMavtop(t, "check", r, "calm", "nosuch"); code != 3 || !strings.Contains(out, "no such workspace: nosuch") {
		t.Errorf("check calm nosuch: exit %d\n%s", code, out) // a valid name still looked for
	}
}
