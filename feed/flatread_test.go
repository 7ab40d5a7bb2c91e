package feed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestTheFlatReadIsTheMapRead: the workspace read on a RESP2 connection (mavtop
// check's), which takes each hash as the flat list of fields and values,
// reads exactly what the same read on a RESP3 connection (go-redis's maps)
// does — the counters cleaned and summed, the settings and budgets, the period
// config, every unreadable counter and setting with the same reason — on a
// real redis-server holding hostile hashes: values that are no integer or
// negative, names that are no id or that cleaning merges, settings in other
// forms than json.Marshal's (spaces, key order, floats, unknown keys, invalid
// JSON), small (listpack) and large (hashtable) hashes, a custom period.
func TestTheFlatReadIsTheMapRead(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	keys := Keys{}
	now := time.Now()
	flat, err := NewClient(ConnectOptions{URL: srv.URL, Protocol: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer flat.Close()
	asMaps, err := NewClient(ConnectOptions{URL: srv.URL, Protocol: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer asMaps.Close()
	for seed := range uint64(6) {
		c := srv.Client()
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(seed, 16))
		size := 40 // listpack-encoded hashes
		if seed%2 == 1 {
			size = 3_000 // hashtable-encoded
		}
		p := model.MonthlyUTC.At(now)
		settings := map[string]any{}
		if seed == 4 {
			settings[PeriodSettingsField] = `{"anchor_day":5}`
		}
		used, refused, recharged := map[string]any{}, map[string]any{}, map[string]any{}
		bad := 0 // unreadable counters: at most maxBadFields, so both reads name them all
		for i := range size {
			ws := fmt.Sprintf("w%04d", i)
			switch k := r.IntN(40); {
			case k == 0 && bad < 10:
				used[ws], bad = "12x", bad+1
			case k == 1 && bad < 10:
				used[ws], bad = -r.IntN(40), bad+1
			case k == 2 && bad < 10:
				used[ws+" "], bad = 5, bad+1 // not an id
			default:
				used[ws] = r.IntN(100_000)
			}
			switch r.IntN(9) {
			case 0:
			case 1:
				settings[ws] = fmt.Sprintf(`{ "usage_limit": %d, "allocation": %d }`, 1+r.IntN(900), r.IntN(1000))
			case 2:
				settings[ws] = fmt.Sprintf(`{"allocation":%d.0}`, r.IntN(1000))
			case 3:
				settings[ws] = `{"allocation":` // invalid JSON
			case 4:
				settings[ws] = `{"allocation":-5}` // invalid settings
			default:
				settings[ws] = fmt.Sprintf(`{"allocation":%d,"alerts":[%d,%d],"raised_at":%d}`, r.IntN(1000), 10+r.IntN(20), 40+r.IntN(50), now.UnixMilli()-r.Int64N(1e9))
			}
			if r.IntN(4) == 0 {
				recharged[ws] = r.IntN(300)
			}
			if r.IntN(3) == 0 {
				refused[model.RefusedField(ws, "a", model.CodeCreditsExhausted)] = 1 + r.IntN(4)
				refused[model.RefusedField(ws, "a b", model.CodeCreditsExhausted)] = 2 // cleaned to a_b
				refused[model.RefusedField(ws, "a_b", model.CodeCreditsExhausted)] = 3
			}
			if r.IntN(5) == 0 {
				settings[model.ProjectKey(ws, "b")] = fmt.Sprintf(`{"budget_alert":%d,"usage_limit":%d}`, r.IntN(50), r.IntN(150))
				settings[model.ProjectKey(ws, "c d")] = `{"budget_alert":5}` // not an id
			}
		}
		refused["no-slash"] = 2
		// fields and values read in place from the reply (rawHash): lengths,
		// not separators, bound them
		used["w\r\n9"], used["w9999"], refused[model.RefusedField("w0001", "p\r\nq", model.CodeCreditsExhausted)] = 7, "", "1\r\n"
		settings["w0002"] = "{\"allocation\":\r\n7}"
		for key, h := range map[string]map[string]any{
			keys.Used(p.Key): used, keys.Refused(p.Key): refused, keys.Recharged(p.Key): recharged, keys.Settings(): settings,
		} {
			if err := c.HSet(ctx, key, h).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if seed == 5 { // a key of another type: WRONGTYPE inside EXEC's reply
			if err := c.Del(ctx, keys.Recharged(p.Key)).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.Set(ctx, keys.Recharged(p.Key), "not a hash", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		want, err := ReadWorkspaceSnapshot(ctx, asMaps, keys, now, model.MonthlyUTC)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadWorkspaceSnapshot(ctx, flat, keys, now, model.MonthlyUTC)
		if err != nil {
			t.Fatal(err)
		}
		if got.rawSettings != nil || want.rawSettings == nil {
			t.Fatalf("seed %d: the RESP2 read was not flat (raw settings kept: %v) or the RESP3 one was (%v)", seed, got.rawSettings != nil, want.rawSettings == nil)
		}
		if len(want.Snap.Used) < size/2 || len(want.BadSettings) == 0 || want.BadCounterCount == 0 || len(want.Snap.Budgets) == 0 || seed == 5 && len(want.BadKeys) != 1 {
			t.Fatalf("seed %d: the fixture misses a case: %d used, %d bad settings, %d bad counters, %d budgets",
				seed, len(want.Snap.Used), len(want.BadSettings), want.BadCounterCount, len(want.Snap.Budgets))
		}
		if !reflect.DeepEqual(got.Snap, want.Snap) || got.PeriodConfig != want.PeriodConfig || !samePeriod(got.Snap.Period, want.Snap.Period) ||
			got.BadCounterCount != want.BadCounterCount || !reflect.DeepEqual(errTexts(got.BadCounters), errTexts(want.BadCounters)) || !reflect.DeepEqual(got.BadKeys, want.BadKeys) ||
			!reflect.DeepEqual(errTexts(got.BadSettings), errTexts(want.BadSettings)) {
			t.Fatalf("seed %d: the flat read differs:\n%+v\n%v %v\nthe map read:\n%+v\n%v %v", seed,
				got.Snap, errTexts(got.BadCounters), errTexts(got.BadSettings), want.Snap, errTexts(want.BadCounters), errTexts(want.BadSettings))
		}
	}
}

func errTexts(m map[string]error) map[string]string {
	out := map[string]string{}
	for k, err := range m {
		out[k] = err.Error()
	}
	return out
}

// TestTheFlatReadAllocatesNoStringAField: the flat read takes each hash as
// Redis sent it, one buffer, and reads its fields and values in place
// (rawHash): go-redis's StringSliceCmd allocated a string for every field
// and every value, 4,000 allocations for a hash of 2,000 fields, a third of
// mavtop check's own CPU at 10k workspaces.
func TestTheFlatReadAllocatesNoStringAField(t *testing.T) {
	srv := feedtest.Start(t)
	ctx := context.Background()
	flat, err := NewClient(ConnectOptions{URL: srv.URL, Protocol: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer flat.Close()
	fields := map[string]any{}
	for i := range 2_000 {
		fields[fmt.Sprintf("w%04d", i)] = i
	}
	if err := srv.Client().HSet(ctx, "h", fields).Err(); err != nil {
		t.Fatal(err)
	}
	var h hashRead
	read := func() {
		if _, err := flat.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			h = readHash(ctx, pipe, "h", true)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	read() // the connection made outside the count
	allocs := testing.AllocsPerRun(5, read)
	n := 0
	for f, v := range h.all {
		if fields[f] == nil || v == "" {
			t.Fatalf("field %q = %q: not what was written", f, v)
		}
		n++
	}
	if h.err() != nil || n != len(fields) || h.len() != n {
		t.Fatalf("read %d fields (len %d, error %v), want %d", n, h.len(), h.err(), len(fields))
	}
	if allocs > 200 {
		t.Errorf("%.0f allocations to read %d fields: a string a field or value", allocs, n)
	}
}
