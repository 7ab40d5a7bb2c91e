package feed

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAProducerSaysOnceThatItWritesIntoTheFallbackPeriod: a Go producer (the
// publisher that records usage, the balances the pre-flight reads) that
// cuts periods by model.PeriodFallback because the stored config cannot be
// read says so in its log, once per change of the stored value, not per
// event nor per re-read; the counters still land in the fallback's period.
// Repaired, it says so once and follows the stored rule. Before, both fell
// back without a word (only emit printed a warning): the counters went
// under a period key the operator did not configure, silently.
func TestAProducerSaysOnceThatItWritesIntoTheFallbackPeriod(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	ts, fallbackKey, meantKey := tokyoFallback(t)
	meant := model.PeriodConfig{StartDay: 15, TZ: "Asia/Tokyo"}
	store := NewSettingsStore(c, StoreOptions{})
	if err := store.SetPeriod(ctx, meant); err != nil {
		t.Fatal(err)
	}
	if err := store.SetWorkspace(ctx, "acme", model.Settings{Allocation: 1000}); err != nil {
		t.Fatal(err)
	}
	var out feedtest.LogBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	clock := newClock(ts)
	// one PeriodLog for both, as the proxy shares it: said once, whichever
	// reads first
	plog := NewPeriodLog(log, "usage events are recorded in this period")
	pub := NewPublisher(c, PublisherOptions{Now: clock.Now, RetryFor: time.Second, PeriodLog: plog})
	bal := NewBalances(c, StoreOptions{Now: clock.Now, PeriodLog: plog})
	track := func(credits int64) {
		t.Helper()
		if err := pub.Track(ctx, usage("acme", "", "/responses", credits)); err != nil {
			t.Fatal(err)
		}
	}
	used := func(key string) string {
		v, _ := c.HGet(ctx, keys.Used(key), "acme").Result()
		return v
	}
	track(1)
	if s := out.String(); s != "" || used(meantKey) != "1" {
		t.Fatalf("readable: the log says %q, used:%s acme %q; want nothing said, 1", s, meantKey, used(meantKey))
	}

	// broken (an escape sequence in it): said once over many events, re-reads and both readers
	broken := "{\"start_day\":15,\"tz\":\"Asia/Tokio\x1b[31m\"}"
	if err := c.HSet(ctx, keys.Settings(), PeriodSettingsField, broken).Err(); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Minute) // past PeriodRefresh (1 min)
	for range 5 {
		track(10)
		if _, err := bal.Status(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		clock.Add(70 * time.Second) // every call re-reads the same value
	}
	st, err := bal.Status(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if used(fallbackKey) != "50" || st.Used != 50 || used(meantKey) != "1" {
		t.Errorf("broken: used:%s %q, balances %d, used:%s %q; want 50, 50, 1", fallbackKey, used(fallbackKey), st.Used, meantKey, used(meantKey))
	}
	if pub.PeriodUnreadable() == nil || bal.PeriodUnreadable() == nil || plog.Unreadable() == "" {
		t.Errorf("broken: publisher %v, balances %v, log %q: not named", pub.PeriodUnreadable(), bal.PeriodUnreadable(), plog.Unreadable())
	}
	warns := out.Lines("level=WARN")
	if len(warns) != 1 {
		t.Fatalf("broken: %d WARN lines, want 1:\n%s", len(warns), out.String())
	}
	for _, want := range []string{`msg="period config unreadable (billing period config`, "calendar months in UTC meanwhile", "field=#period",
		"period=" + fallbackKey, `meanwhile="usage events are recorded in this period"`, `fix="mavtop budget period`} {
		if !strings.Contains(warns[0], want) {
			t.Errorf("broken: the WARN lacks %q: %s", want, warns[0])
		}
	}
	if strings.ContainsRune(out.String(), 0x1b) {
		t.Errorf("the log holds an escape: %q", out.String())
	}

	// broken otherwise: a change of the stored value, said again (once)
	if err := c.HSet(ctx, keys.Settings(), PeriodSettingsField, `{"start_day":99}`).Err(); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Minute)
	track(5)
	clock.Add(2 * time.Minute)
	track(5)
	if warns := out.Lines("level=WARN"); len(warns) != 2 || !strings.Contains(warns[1], "start day 99 must be between 1 and 28") {
		t.Errorf("broken otherwise: WARN lines %q, want a second naming start day 99", warns)
	}

	// repaired: said once, and the producer follows the stored rule
	if err := store.SetPeriod(ctx, meant); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Minute)
	track(7)
	clock.Add(2 * time.Minute)
	track(7)
	if st, err = bal.Status(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if used(meantKey) != "15" || st.Used != 15 || used(fallbackKey) != "60" {
		t.Errorf("repaired: used:%s %q, balances %d, used:%s %q; want 15, 15, 60", meantKey, used(meantKey), st.Used, fallbackKey, used(fallbackKey))
	}
	infos := out.Lines("level=INFO")
	if len(infos) != 1 || !strings.Contains(infos[0], `msg="period config readable again" field=#period period=`+meantKey) {
		t.Errorf("repaired: INFO lines %q, want one 'period config readable again' naming %s", infos, meantKey)
	}
	if n := len(out.Lines("level=WARN")); n != 2 || pub.PeriodUnreadable() != nil || plog.Unreadable() != "" {
		t.Errorf("repaired: %d WARN lines (want 2), publisher %v, log %q", n, pub.PeriodUnreadable(), plog.Unreadable())
	}
}

// TestABalancesStartedOnABrokenConfigSaysIt: a pre-flight reader started
// while the config cannot be read (its first read) says so at once, and
// once, however many checks follow; one started on a readable config says
// nothing. Balances were silent before.
func TestABalancesStartedOnABrokenConfigSaysIt(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	now := time.Now()
	if err := c.HSet(ctx, Keys{}.Settings(), PeriodSettingsField, `not json`).Err(); err != nil {
		t.Fatal(err)
	}
	var out feedtest.LogBuffer
	clock := newClock(now)
	bal := NewBalances(c, StoreOptions{Now: clock.Now, PeriodLog: NewPeriodLog(slog.New(slog.NewTextHandler(&out, nil)), "")})
	for range 4 {
		if _, err := bal.Status(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		clock.Add(90 * time.Second)
	}
	warns := out.Lines("level=WARN")
	if len(warns) != 1 || !strings.Contains(warns[0], "not JSON") || !strings.Contains(warns[0], "period="+model.PeriodFallback.At(now).Key) || strings.Contains(warns[0], "meanwhile=") {
		t.Errorf("WARN lines %q, want one naming why and the fallback's period, no 'meanwhile' attribute", warns)
	}
	if err := c.HDel(ctx, Keys{}.Settings(), PeriodSettingsField).Err(); err != nil {
		t.Fatal(err)
	}
	var quiet feedtest.LogBuffer
	bal = NewBalances(c, StoreOptions{Now: clock.Now, PeriodLog: NewPeriodLog(slog.New(slog.NewTextHandler(&quiet, nil)), "")})
	if _, err := bal.Status(ctx, "acme"); err != nil || quiet.String() != "" {
		t.Errorf("absent config: %v, log %q; want nothing said", err, quiet.String())
	}
}
