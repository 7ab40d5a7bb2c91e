package feed

import (
	"context"
	"fmt"
	"hash/maphash"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/model/modeltest"
)

// readmeBlock returns the fenced code block that follows the marker
// "<!-- readme-test: name -->" in the README.
func readmeBlock(t *testing.T, readme, name string) string {
	t.Helper()
	marker := "<!-- readme-test: " + name + " -->"
	i := strings.Index(readme, marker)
	if i < 0 {
		t.Fatalf("README.md has no %s", marker)
	}
	rest := readme[i+len(marker):]
	open := strings.Index(rest, "```")
	if open < 0 {
		t.Fatalf("no code block after %s", marker)
	}
	rest = rest[open+3:]
	rest = rest[strings.Index(rest, "\n")+1:] // drop the language tag
	end := strings.Index(rest, "\n```")
	if end < 0 {
		t.Fatalf("unterminated code block after %s", marker)
	}
	return rest[:end+1]
}

// pythonWithRedis returns a Python that can import redis-py, or "".
func pythonWithRedis() string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import redis").Run() == nil {
			return py
		}
	}
	return ""
}

// readmePython returns a Python that can import redis-py and the README's
// Python block; without such a Python t is skipped, or failed (what cannot
// be run said) under feedtest.RequireEnv as CI sets it.
func readmePython(t *testing.T, what string) (py, code string) {
	t.Helper()
	if py = pythonWithRedis(); py == "" {
		if os.Getenv(feedtest.RequireEnv) == "1" {
			t.Fatal("no python3 with redis-py (apt-get install python3-redis): " + what)
		}
		t.Skip("no python3 with redis-py")
	}
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return py, readmeBlock(t, string(raw), "python")
}

// runPython runs script with REDIS_URL set to url and returns what it
// printed on stdout and on stderr, failing t when it fails.
func runPython(t *testing.T, py, script, url string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(py, "-")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "REDIS_URL="+url)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s%s", err, out, errOut.String())
	}
	return string(out), errOut.String()
}

// TestREADMEExamplesProduceWhatTheSubscriberCounts runs the README's Python and
// redis-cli producers against a real server while a subscriber follows: the
// subscriber must count exactly their credits, and the Redis counters must agree.
func TestREADMEExamplesProduceWhatTheSubscriberCounts(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	pyCode := readmeBlock(t, readme, "python")
	shCode := readmeBlock(t, readme, "redis-cli")

	// The README names the keys exactly as the code does.
	k := Keys{}
	for _, key := range []string{k.Stream(), k.Used("<period>"), k.UsedBy("<period>"), k.Refused("<period>"), k.Recharged("<period>"), k.Settings()} {
		if !strings.Contains(readme, "`"+key+"`") {
			t.Errorf("README.md does not name the key %s", key)
		}
	}
	if !strings.Contains(readme, "`"+PeriodSettingsField+"`") {
		t.Errorf("README.md does not name the settings field %s", PeriodSettingsField)
	}
	for _, want := range []string{`PREFIX = "` + DefaultPrefix + `"`, `"#period"`, `f"{PREFIX}:used:{period}"`, `f"{PREFIX}:used_by:{period}"`,
		`f"{PREFIX}:refused:{period}"`, `f"{PREFIX}:usage"`, `f"{ws}/{project}/{endpoint}"`, `f"{ws}/{project}/{code}"`, "transaction=True", "35 * 86400",
		`f"{PREFIX}:digest:{period}"`, `zlib.crc32(ws.encode()) % 1024`} {
		if !strings.Contains(pyCode, want) {
			t.Errorf("the Python example lacks %s", want)
		}
	}

	srv := feedtest.Start(t)
	c := srv.Client()
	f := startFollower(t, c, SubscriberOptions{})
	f.waitFor("the start snapshot", 5*time.Second, func(f *follower) bool { return f.ledger != nil })
	env := append(os.Environ(), "REDIS_URL="+srv.URL)
	var want int64

	if py := pythonWithRedis(); py == "" {
		if os.Getenv(feedtest.RequireEnv) == "1" {
			t.Errorf("no python3 with redis-py (apt-get install python3-redis): the Python example cannot be run")
		} else {
			t.Log("no python3 with redis-py: the Python example's key names were checked but it was not run")
		}
	} else {
		cmd := exec.Command(py, "-")
		cmd.Stdin = strings.NewReader(pyCode)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("python example: %v\n%s", err, out)
		}
		want += 120
	}

	if _, err := exec.LookPath("redis-cli"); err != nil || !srv.Real {
		if os.Getenv(feedtest.RequireEnv) == "1" {
			t.Errorf("redis-cli is not on PATH: the redis-cli example cannot be run")
		} else {
			t.Log("redis-cli is not on PATH: the redis-cli example was not run")
		}
	} else {
		cmd := exec.Command("bash", "-c", shCode)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "ERR") {
			t.Fatalf("redis-cli example: %v\n%s", err, out)
		}
		want += 3
	}
	if want == 0 {
		return
	}
	f.caughtUp(c, 10*time.Second)
	got := f.totals()
	if got.Used["acme"] != want {
		t.Errorf("the subscriber counts %d credits for acme, want %d", got.Used["acme"], want)
	}
	if redisNow := redisCounters(t, c, time.Now()); !got.equal(redisNow) {
		t.Errorf("ledger\n%v\nredis\n%v", got, redisNow)
	}
	// Both examples keep the digest: it sums their counters, shard by shard
	// (the redis-cli one names acme's shard, u:574, by hand).
	if DigestShard("acme") != 574 {
		t.Errorf("acme's digest shard is %d, the README's redis-cli example says 574", DigestShard("acme"))
	}
	res, err := ReadSnapshot(context.Background(), c, Keys{}, time.Now(), model.MonthlyUTC)
	if err != nil {
		t.Fatal(err)
	}
	if !tallyOf(maphash.MakeSeed(), res.Snap, res.rawSettings).digestAgrees(res.digest) {
		t.Errorf("the examples' digest %v does not sum their counters %v", res.digest, res.Snap.Used)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.malformed) > 0 {
		t.Errorf("the examples wrote malformed entries: %+v", f.malformed)
	}
	if want >= 120 && got.Refused["acme//credits_exhausted"] != 1 {
		t.Errorf("the Python example's 402 is not counted: %v", got)
	}
}

// TestREADMEPythonPeriodMatchesGo runs the README's period_of against stored
// period configs and compares it with model.PeriodRule around boundaries.
func TestREADMEPythonPeriodMatchesGo(t *testing.T) {
	py := pythonWithRedis()
	if py == "" {
		t.Skip("no python3 with redis-py")
	}
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pyCode := readmeBlock(t, string(raw), "python")
	srv := feedtest.Start(t)
	store := NewSettingsStore(srv.Client(), StoreOptions{})
	for _, cfg := range []model.PeriodConfig{{StartDay: 1}, {StartDay: 15, TZ: "Europe/Paris"}, {StartDay: 28, TZ: "America/Los_Angeles"}, {StartDay: 1, TZ: "Asia/Tokyo"}} {
		if err := store.SetPeriod(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		rule, err := cfg.Rule()
		if err != nil {
			t.Fatal(err)
		}
		var stamps []string
		var want []string
		base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		for d := -40; d < 400; d += 3 {
			for _, off := range []time.Duration{-time.Second, 0, 7 * time.Hour} {
				ts := base.AddDate(0, 0, d).Add(off).UnixMilli()
				p := rule.AtMillis(ts)
				stamps = append(stamps, strconv.FormatInt(ts, 10))
				want = append(want, fmt.Sprintf("%s %d", p.Key, p.End.Unix()))
			}
		}
		script := pyCode + "\nfor ts in [" + strings.Join(stamps, ",") + "]:\n    k, e = period_of(ts)\n    print(k, e)\n"
		cmd := exec.Command(py, "-")
		cmd.Stdin = strings.NewReader(script)
		cmd.Env = append(os.Environ(), "REDIS_URL="+srv.URL)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%+v: %v\n%s", cfg, err, out)
		}
		got := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(got) != len(want) {
			t.Fatalf("%+v: %d lines from Python, want %d", cfg, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%+v: ts %s: Python says %q, Go says %q", cfg, stamps[i], got[i], want[i])
				break
			}
		}
	}
}

// TestREADMEPythonPeriodMatchesGoAtMidnightDSTChanges runs the README's
// period_of for every zone of the tz database whose UTC offset changes at local
// midnight (2000–2040, start days up to 28), around the first instant of that
// day, and compares it with model.PeriodRule: the same period key and end on
// either side of a skipped midnight, a repeated one, and a clock going back
// past it. One Python process; the period config is set in Redis per case.
func TestREADMEPythonPeriodMatchesGoAtMidnightDSTChanges(t *testing.T) {
	py, pyCode := readmePython(t, "the README's period_of cannot be run")
	changes, err := modeltest.MidnightChanges(2000, 2040)
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString(pyCode + "\ncases = [\n")
	var want []string
	zones := map[string]bool{}
	santiago := false
	for _, ch := range changes {
		if ch.Day.Day() > 28 {
			continue
		}
		cfg := model.PeriodConfig{StartDay: ch.Day.Day(), TZ: ch.Zone}
		rule, err := cfg.Rule()
		if err != nil {
			t.Fatal(err)
		}
		zones[ch.Zone] = true
		start := rule.At(ch.At.Add(12 * time.Hour)).Start // the first instant of the start day
		var stamps []string
		for _, d := range []time.Duration{-61 * time.Minute, -30 * time.Minute, -time.Millisecond, 0, time.Second, 30 * time.Minute, time.Hour - time.Millisecond, 90 * time.Minute} {
			ts := start.Add(d).UnixMilli()
			p := rule.AtMillis(ts)
			stamps = append(stamps, strconv.FormatInt(ts, 10))
			want = append(want, fmt.Sprintf("%s %d", p.Key, p.End.Unix()))
		}
		if ch.Zone == "America/Santiago" && ch.Day.Format("2006-01-02") == "2027-09-05" {
			santiago = true
			ts := time.Date(2027, 9, 5, 3, 30, 0, 0, time.UTC).UnixMilli() // the event
			stamps = append(stamps, strconv.FormatInt(ts, 10))
			want = append(want, fmt.Sprintf("2027-08 %d", time.Date(2027, 9, 5, 4, 0, 0, 0, time.UTC).Unix())) // ends 2027-09-05 01:00 -03
		}
		fmt.Fprintf(&script, "    (%q, [%s]),\n", fmt.Sprintf(`{"start_day":%d,"tz":%q}`, cfg.StartDay, cfg.TZ), strings.Join(stamps, ","))
	}
	script.WriteString("]\nfor cfg, stamps in cases:\n    r.hset(f\"{PREFIX}:settings\", \"#period\", cfg)\n    for ts in stamps:\n        k, e = period_of(ts)\n        print(cfg, ts, k, e)\n")
	if !santiago || len(zones) < 10 {
		t.Fatalf("%d zones with a midnight change, the issue's Santiago case among them: %v; the test proves nothing", len(zones), santiago)
	}
	srv := feedtest.Start(t)
	cmd := exec.Command(py, "-")
	cmd.Stdin = strings.NewReader(script.String())
	cmd.Env = append(os.Environ(), "REDIS_URL="+srv.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines from Python, want %d:\n%s", len(got), len(want), out)
	}
	bad := 0
	for i, line := range got {
		f := strings.Fields(line)
		if len(f) < 2 || strings.Join(f[len(f)-2:], " ") != want[i] {
			if bad++; bad <= 10 {
				t.Errorf("Python: %s; Go: %s", line, want[i])
			}
		}
	}
	t.Logf("%d stamps around midnight changes in %d zones: Python and Go agree on %d", len(want), len(zones), len(want)-bad)
}

// unreadablePeriodConfigs are stored period configs mavtop cannot read
// (model.ParsePeriodConfig fails on each), with what is wrong.
var unreadablePeriodConfigs = []struct{ why, raw string }{
	{"not JSON", `start_day=5`},
	{"start_day a string", `{"start_day":"5"}`},
	{"start_day 0", `{"start_day":0}`},
	{"start_day 29", `{"start_day":29}`},
	{"start_day -1", `{"start_day":-1}`},
	{"start_day a fraction", `{"start_day":5.0}`},
	{"start_day an exponent", `{"start_day":5e0}`},
	{"start_day true", `{"start_day":true}`},
	{"start_day null", `{"start_day":null}`},
	{"an unknown zone", `{"start_day":5,"tz":"Mars/Olympus"}`},
	{"tz a number", `{"start_day":5,"tz":1}`},
	{"tz null", `{"start_day":5,"tz":null}`},
	{"the machine's own zone", `{"start_day":5,"tz":"Local"}`},
	{"a zone path that is no zone name", `{"start_day":5,"tz":"Europe/./Paris"}`},
	{"an escape sequence in tz", `{"start_day":5,"tz":"Europe/Paris\u001b[31m"}`},
	{"a raw control byte", "{\"start_day\":5,\"tz\":\"Europe/Paris\x1b[31m\"}"},
	{"not UTF-8", "{\"start_day\":5,\"tz\":\"Europe/Par\xffis\"}"},
	{"over 256 bytes", `{"start_day":5,"tz":"Europe/Paris","note":"` + strings.Repeat("x", 240) + `"}`},
	{"an array", `[5]`},
	{"null", `null`},
	{"NaN beside a good rule", `{"start_day":5,"tz":"Europe/Paris","x":NaN}`},
	{"trailing text", `{"start_day":5} x`},
}

// TestREADMEPythonPeriodMatchesGoOnUnreadableConfigs: for period configs
// mavtop cannot read, the README's period_of picks the period Go's producers
// and readers pick: model.PeriodFallback's (calendar months in UTC), so a
// Python producer's counters land where every mavtop looks. Readable configs
// of unusual forms (keys in another case, unknown keys, whitespace) are read
// alike too.
func TestREADMEPythonPeriodMatchesGoOnUnreadableConfigs(t *testing.T) {
	py, pyCode := readmePython(t, "the README's period_of cannot be run")
	type pcase struct{ why, raw string }
	cases := []pcase{}
	for _, c := range unreadablePeriodConfigs {
		if _, err := model.ParsePeriodConfig(c.raw); err == nil {
			t.Errorf("%s: %q is read; want unreadable", c.why, c.raw)
		}
		cases = append(cases, pcase(c))
	}
	for _, c := range []pcase{
		{"readable: keys in another case are other keys", `{"START_DAY":5,"Tz":"Europe/Paris"}`},
		{"readable: an unknown key", `{"start_day":5,"tz":"Europe/Paris","note":"x"}`},
		{"readable: whitespace", " { \"start_day\" : 5 ,\n\"tz\":\"Europe/Paris\" } "},
		{"readable: no start day", `{"tz":"Asia/Tokyo"}`},
		{"readable: UTC named", `{"start_day":5,"tz":"UTC"}`},
	} {
		if _, err := model.ParsePeriodConfig(c.raw); err != nil {
			t.Errorf("%s: %q: %v; want readable", c.why, c.raw, err)
		}
		cases = append(cases, c)
	}
	// instants where start day 5 (or a zone) and calendar months in UTC differ
	stamps := []time.Time{
		time.Date(2027, 3, 3, 12, 0, 0, 0, time.UTC),
		time.Date(2027, 3, 31, 23, 30, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 30, 0, 0, time.UTC),
		time.Date(2027, 6, 4, 22, 30, 0, 0, time.UTC),
		time.Date(2027, 6, 5, 0, 0, 0, 0, time.UTC),
	}
	var script strings.Builder
	script.WriteString(pyCode + "\ncases = [\n")
	var want []string
	for _, c := range cases {
		rule, _ := model.ParsePeriodConfig(c.raw) // model.PeriodFallback when unreadable
		var ms []string
		for _, ts := range stamps {
			p := rule.At(ts)
			ms = append(ms, strconv.FormatInt(ts.UnixMilli(), 10))
			want = append(want, fmt.Sprintf("%s %d", p.Key, p.End.Unix()))
		}
		fmt.Fprintf(&script, "    (bytes.fromhex(%q), [%s]),\n", fmt.Sprintf("%x", c.raw), strings.Join(ms, ","))
	}
	script.WriteString("]\nfor cfg, stamps in cases:\n    r.hset(f\"{PREFIX}:settings\", \"#period\", cfg)\n    for ts in stamps:\n        k, e = period_of(ts)\n        print(k, e)\n")
	srv := feedtest.Start(t)
	out, stderr := runPython(t, py, script.String(), srv.URL)
	got := strings.Split(strings.TrimSpace(out), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines from Python, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if c := cases[i/len(stamps)]; got[i] != want[i] {
			t.Errorf("%s (%q): at %s Python says %q, Go %q", c.why, c.raw, stamps[i%len(stamps)].Format(time.RFC3339), got[i], want[i])
		}
	}
	// On stderr: one warning per unreadable value (each read 5 times), then
	// one "readable again" at the first readable one, the readable ones after
	// it nothing; printable ASCII only (a value holds an escape sequence).
	said := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(said) != len(unreadablePeriodConfigs)+1 {
		t.Fatalf("Python said %d lines on stderr, want %d (one per unreadable value, then one readable again):\n%s", len(said), len(unreadablePeriodConfigs)+1, stderr)
	}
	for i, line := range said {
		want := "mavtop producer: warning: period config unreadable ("
		if i == len(unreadablePeriodConfigs) {
			want = "mavtop producer: period config readable again"
		}
		if !strings.HasPrefix(line, want) || i < len(unreadablePeriodConfigs) && !strings.HasSuffix(line, "calendar months in UTC meanwhile; fix: mavtop budget period --start-day N [--tz ZONE]") {
			t.Errorf("stderr line %d (%s): %q, want %q…", i+1, cases[min(i, len(cases)-1)].why, line, want)
		}
		for _, r := range line {
			if r < ' ' || r > '~' {
				t.Errorf("stderr line %d holds %q: %q", i+1, r, line)
				break
			}
		}
	}
}

// TestREADMEPythonProducerSaysOnceItFallsBack: the README's Python producer,
// run while the stored period config cannot be read, records its events into
// model.PeriodFallback's period (as Go's producers do) and says so on stderr
// once, not per event; once the config is repaired it says so once and
// follows the stored rule. Before, it fell back without a word.
func TestREADMEPythonProducerSaysOnceItFallsBack(t *testing.T) {
	py, pyCode := readmePython(t, "the README's producer cannot be run")
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := Keys{}
	broken := "{\"start_day\":15,\"tz\":\"Asia/Tokio\x1b[31m\"}"
	if err := c.HSet(ctx, keys.Settings(), PeriodSettingsField, broken).Err(); err != nil {
		t.Fatal(err)
	}
	// the README's two events at the real time, then three more at an
	// instant where the rule meant (start day 15) and the fallback differ
	now := time.Now()
	at := time.Date(2027, 3, 3, 12, 0, 0, 0, time.UTC)
	meant := model.PeriodConfig{StartDay: 15}
	meantRule, err := meant.Rule()
	if err != nil {
		t.Fatal(err)
	}
	meantKey, fallbackKey := meantRule.At(at).Key, model.PeriodFallback.At(at).Key
	if meantKey == fallbackKey {
		t.Fatalf("meant %s, fallback %s: the instant tells nothing", meantKey, fallbackKey)
	}
	script := pyCode + fmt.Sprintf(`
time.time = lambda: %d
track("acme", "/responses", 4)
track("acme", "/responses", 5)
r.hset(f"{PREFIX}:settings", "#period", '{"start_day":15}')
track("acme", "/responses", 6)
track("acme", "/responses", 7)
`, at.Unix())
	_, stderr := runPython(t, py, script, srv.URL)
	said := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(said) != 2 || !strings.HasPrefix(said[0], "mavtop producer: warning: period config unreadable (") ||
		!strings.Contains(said[0], "calendar months in UTC meanwhile") || !strings.Contains(said[0], `Asia/Tokio\x1b[31m`) ||
		said[1] != "mavtop producer: period config readable again" {
		t.Errorf("Python said on stderr:\n%s\nwant one warning for the 4 events under the broken config (the value shown escaped), then one 'readable again'", stderr)
	}
	if strings.ContainsRune(stderr, 0x1b) {
		t.Errorf("stderr holds an escape: %q", stderr)
	}
	used := func(key string) string {
		v, _ := c.HGet(ctx, keys.Used(key), "acme").Result()
		return v
	}
	nowKey := model.PeriodFallback.At(now).Key
	if used(nowKey) != "120" || used(fallbackKey) != "9" || used(meantKey) != "13" {
		t.Errorf("used:%s acme %q (want 120, the README's events in the fallback's period), used:%s %q (want 9), used:%s %q (want 13, repaired)",
			nowKey, used(nowKey), fallbackKey, used(fallbackKey), meantKey, used(meantKey))
	}
}
