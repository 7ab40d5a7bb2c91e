package proxy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
)

// TestTheProxySaysOnceThatItRecordsIntoTheFallbackPeriod: with a stored
// billing-period config no one can read, `mavtop proxy` records every call
// into model.PeriodFallback's period (calendar months in UTC) and says so
// once in its log, whatever the number of calls and re-reads (its tracking
// and its pre-flight share one feed.PeriodLog), with /metrics'
// mavtop_proxy_period_config_unreadable 1. Repaired, it says so once, the
// gauge reads 0 and the calls land in the stored rule's period. Before, the
// proxy fell back without a word: its counters went under a period key the
// operator did not configure, and nothing said it.
func TestTheProxySaysOnceThatItRecordsIntoTheFallbackPeriod(t *testing.T) {
	r := newRig(t, rigOptions{periodLog: true})
	ctx := context.Background()
	keys := feed.Keys{}
	meant := model.PeriodConfig{StartDay: 15} // the rig's clock is 2026-11-10: period 2026-10
	rule, err := meant.Rule()
	if err != nil {
		t.Fatal(err)
	}
	meantKey, fallbackKey := rule.At(r.clock.Now()).Key, model.PeriodFallback.At(r.clock.Now()).Key
	if meantKey == fallbackKey {
		t.Fatalf("meant %s, fallback %s: the instant tells nothing", meantKey, fallbackKey)
	}
	r.setWorkspace("acme", model.Settings{Allocation: 100_000})
	if err := r.rc.HSet(ctx, keys.Settings(), feed.PeriodSettingsField, `{"start_day":15,"tz":"Mars/Olympus"}`).Err(); err != nil {
		t.Fatal(err)
	}
	call := func() {
		t.Helper()
		status, body := post(t, r.Base+"/responses", testKey, map[string]any{"model": "mavera-1", "input": "hi"}, map[string]string{"X-Mavtop-Workspace": "acme"})
		if status != http.StatusOK {
			t.Fatalf("POST /responses: %d %v", status, body)
		}
		r.settle()
		r.clock.Advance(70 * time.Second) // past the period config's refresh: every call re-reads it
	}
	used := func(key string) int64 {
		t.Helper()
		v, err := r.rc.HGet(ctx, keys.Used(key), "acme").Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		return v
	}
	gauge := func() string {
		t.Helper()
		resp, err := http.Get(r.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "mavtop_proxy_period_config_unreadable "); ok {
				return v
			}
		}
		return "absent"
	}
	for range 4 {
		call()
	}
	charged := r.ledger().Used
	if got := used(fallbackKey); got != charged || got == 0 || used(meantKey) != 0 {
		t.Errorf("broken: used:%s acme %d, used:%s acme %d; want the %d credits charged in the fallback's period", fallbackKey, got, meantKey, used(meantKey), charged)
	}
	warns := r.log.Lines(`msg="period config unreadable (`)
	if len(warns) != 1 {
		t.Fatalf("broken: %d WARN lines about the period config over 4 calls, want 1:\n%s", len(warns), r.log.String())
	}
	for _, want := range []string{"level=WARN", "Mars/Olympus", "calendar months in UTC meanwhile", "field=#period", "period=" + fallbackKey,
		`meanwhile="usage events are recorded, and budgets read, in this period"`} {
		if !strings.Contains(warns[0], want) {
			t.Errorf("broken: the WARN lacks %q: %s", want, warns[0])
		}
	}
	if g := gauge(); g != "1" {
		t.Errorf("broken: mavtop_proxy_period_config_unreadable %s, want 1", g)
	}

	if err := feed.NewSettingsStore(r.rc, feed.StoreOptions{Now: r.clock.Now}).SetPeriod(ctx, meant); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(2 * time.Minute)
	for range 3 {
		call()
	}
	if got, total := used(meantKey), r.ledger().Used; got != total-charged || got == 0 {
		t.Errorf("repaired: used:%s acme %d, want the %d credits charged since", meantKey, got, total-charged)
	}
	infos := r.log.Lines(`msg="period config readable again"`)
	if len(infos) != 1 || !strings.Contains(infos[0], "level=INFO") || !strings.Contains(infos[0], "period="+meantKey) {
		t.Errorf("repaired: %q, want one INFO naming period %s:\n%s", infos, meantKey, r.log.String())
	}
	if n := len(r.log.Lines(`msg="period config unreadable (`)); n != 1 {
		t.Errorf("repaired: %d WARN lines, want still 1", n)
	}
	if g := gauge(); g != "0" {
		t.Errorf("repaired: mavtop_proxy_period_config_unreadable %s, want 0", g)
	}
}
