package cmd

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestCheckRowsAreTheLedgers: check's rows judged without a ledger
// (checkRows, model.JudgeSnapshot) are byte for byte, in text and JSON, the
// rows of a ledger seeded with the same read and given the history as the
// dashboard's is (workspaceRows of judgedLedger), on a real redis-server
// holding varied and hostile hashes: counters that are no integer, negative
// or name no workspace, settings in json.Marshal's form and others (spaces,
// other key order, floats), budgets with and without a usage limit,
// workspaces known by one hash alone, and workspaces both refused with
// credits_exhausted and recharged or raised this period whose OUT only the
// stream's order decides, among entries of other workspaces.
func TestCheckRowsAreTheLedgers(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := feed.Keys{}
	now := time.Now()
	p := model.MonthlyUTC.At(now)
	if now.Sub(p.Start) < 2*time.Hour {
		// the fixture's last hour must lie in this billing period: in a
		// period's first hour its history fell in the last one and decided
		// nothing (the test failed from 00:00 to 01:00 on every 1st)
		now = p.Start.Add(2 * time.Hour)
	}
	undecidedSeen, decidedByHistory, heldByHistory := 0, 0, 0
	for seed := range uint64(12) {
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(seed, 3))
		used, refused, recharged, usedBy, settings := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
		var names []string
		for i := range 150 {
			ws := fmt.Sprintf("w%03d", i)
			names = append(names, ws)
			switch r.IntN(12) {
			case 0:
			case 1:
				used[ws] = "12x" // no integer
			case 2:
				used[ws] = -r.IntN(40)
			default:
				used[ws] = r.IntN(1200)
			}
			raised := int64(0)
			if r.IntN(3) == 0 {
				raised = p.Start.UnixMilli() + r.Int64N(now.UnixMilli()-p.Start.UnixMilli()+1)
			}
			switch r.IntN(6) {
			case 0: // none
			case 1:
				settings[ws] = fmt.Sprintf(`{ "usage_limit": %d, "allocation": %d }`, 1+r.IntN(900), r.IntN(1000))
			case 2:
				settings[ws] = fmt.Sprintf(`{"allocation":%d.0}`, r.IntN(1000))
			default:
				st := fmt.Sprintf(`{"allocation":%d`, r.IntN(1000))
				if r.IntN(3) == 0 {
					st += fmt.Sprintf(`,"usage_limit":%d`, 1+r.IntN(900))
				}
				if r.IntN(3) == 0 {
					st += fmt.Sprintf(`,"alerts":[%d,%d]`, 10+r.IntN(20), 40+r.IntN(50))
				}
				if raised > 0 {
					st += fmt.Sprintf(`,"raised_at":%d`, raised)
				}
				settings[ws] = st + "}"
			}
			if r.IntN(4) == 0 {
				recharged[ws] = r.IntN(300)
			}
			if r.IntN(3) == 0 {
				refused[model.RefusedField(ws, "a", model.CodeCreditsExhausted)] = 1 + r.IntN(4)
			}
			if r.IntN(5) == 0 {
				refused[model.RefusedField(ws, "b", model.CodeBudgetExceeded)] = r.IntN(3)
			}
			if r.IntN(3) == 0 {
				usedBy[model.UsedByField(ws, "b", "/responses")] = r.IntN(200)
				settings[model.ProjectKey(ws, "b")] = fmt.Sprintf(`{"budget_alert":%d,"usage_limit":%d}`, r.IntN(50), r.IntN(150))
				settings[model.ProjectKey(ws, "c")] = `{"budget_alert":5}`
			}
		}
		used["bad name!"], refused["no-slash"], recharged["w9r"] = 4, 2, 30
		refused[model.RefusedField("w9x", "p", model.CodeCreditsExhausted)] = 1
		for key, h := range map[string]map[string]any{
			keys.Used(p.Key): used, keys.Refused(p.Key): refused, keys.Recharged(p.Key): recharged,
			keys.UsedBy(p.Key): usedBy, keys.Settings(): settings,
		} {
			if err := c.HSet(ctx, key, h).Err(); err != nil {
				t.Fatal(err)
			}
		}
		// the last hour: recharges, credits_exhausted 402s and successes,
		// oldest first as a producer writes them
		ts := now.UnixMilli() - 3_000_000
		for i := range 240 {
			ts += 1 + r.Int64N(10_000)
			e := model.Event{TS: ts, Workspace: names[r.IntN(len(names))], Project: "a", Endpoint: "/responses", Status: 200, Credits: 1}
			switch i % 5 {
			case 0:
				e.Kind, e.Status, e.Endpoint, e.Project = model.KindRecharge, 0, "", ""
			case 1:
				e.Status, e.Code, e.Credits = 402, model.CodeCreditsExhausted, 0
			case 2: // project b's limit: a 402 that may stand
				e.Project, e.Status, e.Code, e.Credits = "b", 402, model.CodeBudgetExceeded, 0
			case 3:
				e.Project = "b"
			}
			if err := c.XAdd(ctx, &redis.XAddArgs{Stream: keys.Stream(), ID: fmt.Sprintf("%d-0", ts), Values: e.Fields()}).Err(); err != nil {
				t.Fatal(err)
			}
		}
		res, err := feed.ReadWorkspaceSnapshot(ctx, c, keys, now, model.MonthlyUTC)
		if err != nil {
			t.Fatal(err)
		}
		if err := feed.ReadLimitedProjects(ctx, c, keys, res); err != nil {
			t.Fatal(err)
		}
		undecidedSeen += len(model.RefusalUndecided(res.Snap))
		defaults := []int(nil)
		if seed%2 == 1 {
			defaults = []int{30, 60, 80}
		}
		l, err := judgedLedger(ctx, c, keys, res, defaults, now, true)
		if err != nil {
			t.Fatal(err)
		}
		want := workspaceRows(l)
		got, err := checkRows(ctx, c, keys, res, defaults, now, true)
		if err != nil {
			t.Fatal(err)
		}
		byCounters, err := checkRows(ctx, c, keys, res, defaults, now, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range min(len(want), len(byCounters)) {
			if want[i].Verdict != byCounters[i].Verdict {
				decidedByHistory++
			}
			if want[i].LimitReached && !byCounters[i].LimitReached {
				heldByHistory++
			}
		}
		for _, fixed := range []bool{false, true} {
			var a, b bytes.Buffer
			for _, rows := range [][]wsRow{want, got} {
				for i := range rows {
					rows[i].judge(fixed, 60, 85)
				}
			}
			if err := writeCheckJSON(&a, map[string]any{"status": "ok"}, want); err != nil {
				t.Fatal(err)
			}
			if err := writeCheckJSON(&b, map[string]any{"status": "ok"}, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) || len(want) < 100 {
				t.Errorf("seed %d fixed %v: %d rows judged without a ledger, %d by the ledger", seed, fixed, len(got), len(want))
				for i := range min(len(got), len(want)) {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Fatalf("%+v\nthe ledger's:\n%+v", got[i], want[i])
					}
				}
				t.FailNow()
			}
			a.Reset()
			b.Reset()
			if err := printCheck(&a, want, 0, "s", now, fixed, 60, 85); err != nil {
				t.Fatal(err)
			}
			if err := printCheck(&b, got, 0, "s", now, fixed, 60, 85); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("seed %d fixed %v: text differs:\n%s\nthe ledger's:\n%s", seed, fixed, b.String(), a.String())
			}
		}
	}
	if undecidedSeen == 0 || decidedByHistory == 0 || heldByHistory == 0 {
		t.Fatalf("%d workspaces undecided by the counters, %d verdicts the history changed, %d limits it held reached: the fixture misses the case",
			undecidedSeen, decidedByHistory, heldByHistory)
	}
}

// TestCheckReadsEachHashOnce: mavtop check (source auto, the default) reads
// each hash it reports from once, in one MULTI, and nothing only the audit
// uses: 4 HGETALLs (used, refused, recharged, settings), no INFO, no digest.
// It read them all twice (once to find the source, once to report) and asked
// INFO server each time. With a usage limit on a project, used_by is walked
// with HSCAN, never read whole.
func TestCheckReadsEachHashOnce(t *testing.T) {
	srv := feedtest.Start(t)
	if !srv.Real {
		t.Skip("commandstats need redis-server")
	}
	seedLevels(t, srv)
	c := srv.Client()
	ctx := context.Background()
	for _, limited := range []bool{false, true} {
		if limited {
			if err := c.HSet(ctx, feed.Keys{}.Settings(), model.ProjectKey("hot", "p"), `{"usage_limit":100}`).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		out, _, code := runMavtop(t, "check", "--json", "--redis="+srv.URL)
		got := commandCalls(t, c)
		hscan := int64(0)
		if limited {
			hscan = 1
		}
		if code != checkCritical || got["hgetall"] != 4 || got["multi"] != 1 || got["info"] != 0 || got["hscan"] != hscan {
			t.Errorf("limited %v: exit %d, commands %v; want 4 hgetall in 1 multi, %d hscan, and no info\n%s", limited, code, got, hscan, out)
		}
	}
}

// TestCheckReadsPattern1CountersOnce: on the Pattern 1 counters check reads
// the counters (SCAN, MGET) once and no hash it does not report: under --source
// auto the counters read to find the source are the ones reported (they were
// read twice, with every stream hash, used_by and the digest, and INFO a second
// time: 11 HGETALLs, 2 SCANs), and --source counters reads neither used_by nor
// the digest nor INFO (7 HGETALLs and INFO before). Both print the same.
func TestCheckReadsPattern1CountersOnce(t *testing.T) {
	srv := feedtest.Start(t)
	if !srv.Real {
		t.Skip("commandstats need redis-server")
	}
	c := srv.Client()
	ctx := context.Background()
	period := model.MonthlyUTC.At(time.Now()).Key
	if err := c.Set(ctx, "mavera:credits_used:current_period:acme", 800, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, feed.Keys{}.Settings(), "acme", `{"allocation":1000}`).Err(); err != nil {
		t.Fatal(err)
	}
	// a used_by hash with no used hash: the source is still the counters
	if err := c.HSet(ctx, feed.Keys{}.UsedBy(period), "acme/p/x", 5).Err(); err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{}
	for _, tc := range []struct {
		source  string
		hgetall int64
	}{{"auto", 4}, {"counters", 5}} {
		if err := c.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		out, _, code := runMavtop(t, "check", "--json", "--source", tc.source, "--redis="+srv.URL)
		got := commandCalls(t, c)
		if code != checkWarning || got["hgetall"] != tc.hgetall || got["scan"] != 1 || got["mget"] != 1 || got["info"] != 0 {
			t.Errorf("--source %s: exit %d, commands %v; want exit %d, %d hgetall, 1 scan, 1 mget, no info\n%s",
				tc.source, code, got, checkWarning, tc.hgetall, out)
		}
		outs[tc.source] = out
	}
	if outs["auto"] != outs["counters"] {
		t.Errorf("auto and counters print differently:\n%s\n%s", outs["auto"], outs["counters"])
	}
}

// commandCalls is how many times redis-server ran each command (by its name
// in INFO commandstats: "hgetall", "multi") since its last CONFIG RESETSTAT.
func commandCalls(tb testing.TB, c redis.UniversalClient) map[string]int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int64{}
	for k, v := range infoFields(info) {
		if rest, ok := strings.CutPrefix(v, "calls="); ok {
			n, _, _ := strings.Cut(rest, ",")
			out[strings.TrimPrefix(k, "cmdstat_")], _ = strconv.ParseInt(n, 10, 64)
		}
	}
	return out
}

// infoFields is an INFO reply's "key:value" lines as a map.
func infoFields(info string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}
