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
	py := pythonWithRedis()
	if py == "" {
		if os.Getenv(feedtest.RequireEnv) == "1" {
			t.Fatal("no python3 with redis-py (apt-get install python3-redis): the README's period_of cannot be run")
		}
		t.Skip("no python3 with redis-py")
	}
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pyCode := readmeBlock(t, string(raw), "python")
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
	py := pythonWithRedis()
	if py == "" {
		if os.Getenv(feedtest.RequireEnv) == "1" {
			t.Fatal("no python3 with redis-py (apt-get install python3-redis): the README's period_of cannot be run")
		}
		t.Skip("no python3 with redis-py")
	}
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pyCode := readmeBlock(t, string(raw), "python")
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
	for i := range want {
		if c := cases[i/len(stamps)]; got[i] != want[i] {
			t.Errorf("%s (%q): at %s Python says %q, Go %q", c.why, c.raw, stamps[i%len(stamps)].Format(time.RFC3339), got[i], want[i])
		}
	}
}
