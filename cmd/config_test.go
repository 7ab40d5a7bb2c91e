package cmd

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"mavtop/config"
	"mavtop/feed"
	"mavtop/feed/feedtest"
	"mavtop/model"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mavtop.toml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// line returns the output line of key in section.
func configLine(t *testing.T, out, section, key string) string {
	t.Helper()
	in := false
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "[") {
			in = l == "["+section+"]"
			continue
		}
		if in && regexp.MustCompile(`^(# )?`+regexp.QuoteMeta(key)+` = `).MatchString(l) {
			return l
		}
	}
	t.Fatalf("no %s.%s in:\n%s", section, key, out)
	return ""
}

func TestConfigCommandShowsEachSourceAndRedacts(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, v := range []string{"REDIS_URL", "MAVTOP_REDIS_URL", "MAVTOP_SSH_LISTEN", "NO_COLOR", "MAVTOP_CONFIG"} {
		t.Setenv(v, "")
	}
	cfg := writeConfig(t, `# ops
[redis]
url = "redis://:filepassword@redis.internal:6379/0"
key_prefix = "{fromfile}"

[ssh]
listen = "0.0.0.0:2222"
idle_timeout = "10m"

[metrics]
listen = "127.0.0.1:9464"

[alerts]
warn = 60
`)
	t.Setenv("MAVTOP_SSH_LISTEN", "127.0.0.1:2200")
	t.Setenv("MAVERA_API_KEY", "mvra_live_0123456789abcdefghijklmnopqrstuvABCD")
	out, stderr, code := runMavtop(t, "config", "--config", cfg, "--metrics", "127.0.0.1:9999")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, tt := range []struct{ section, key, want string }{
		{"redis", "url", `url = "redis://:xxxxx@redis.internal:6379/0"  # file ` + cfg + ":3"},
		{"redis", "key_prefix", `key_prefix = "{fromfile}"`},
		{"redis", "timeout", `# default`},
		{"ssh", "listen", `listen = "127.0.0.1:2200"`},       // env beats file
		{"ssh", "listen", `# env MAVTOP_SSH_LISTEN`},         //
		{"ssh", "idle_timeout", `idle_timeout = "10m0s"`},    // file beats default
		{"metrics", "listen", `listen = "127.0.0.1:9999"`},   // flag beats file
		{"metrics", "listen", `# flag --metrics`},            //
		{"alerts", "warn", `warn = 60`},                      // a check flag, from the file
		{"api", "key", `# key = "mvra_live_…ABCD"`},          // redacted
		{"api", "key", `# env MAVERA_API_KEY`},               //
		{"theme", "no_color", `no_color = false  # default`}, //
	} {
		if l := configLine(t, out, tt.section, tt.key); !strings.Contains(l, tt.want) {
			t.Errorf("%s.%s: %q lacks %q", tt.section, tt.key, l, tt.want)
		}
	}
	for _, secret := range []string{"filepassword", "0123456789abcdef"} {
		if strings.Contains(out+stderr, secret) {
			t.Errorf("secret %q printed:\n%s", secret, out)
		}
	}
	// NO_COLOR turns no_color on (any value, by its convention).
	t.Setenv("NO_COLOR", "1")
	out, _, _ = runMavtop(t, "config", "--config", cfg)
	if l := configLine(t, out, "theme", "no_color"); !strings.Contains(l, "no_color = true  # env NO_COLOR") {
		t.Errorf("NO_COLOR: %q", l)
	}
}

func TestConfigFileErrors(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("MAVTOP_CONFIG", "")
	missing := filepath.Join(t.TempDir(), "nope.toml")
	_, stderr, code := runMavtop(t, "config", "--config", missing)
	if code != 2 || !strings.Contains(stderr, missing) {
		t.Errorf("--config to a missing file: exit %d, %s", code, stderr)
	}
	// A missing default file is fine.
	if _, stderr, code := runMavtop(t, "config"); code != 0 {
		t.Errorf("no default file: exit %d, %s", code, stderr)
	}
	bad := writeConfig(t, "[redis]\nurl = \"redis://h:6379\"\n\n[ssh]\nlisten = \":2222\"\nauthorised_keys = \"~/.ssh/ak\"\n")
	// check is a monitoring plugin: a configuration mistake is UNKNOWN (3), never 2 (CRITICAL)
	_, stderr, code = runMavtop(t, "check", "--config", bad)
	if code != 3 || !strings.Contains(stderr, bad+":6") || !strings.Contains(stderr, `"ssh.authorised_keys"`) {
		t.Errorf("unknown key: exit %d, %s", code, stderr)
	}
	badValue := writeConfig(t, "[metrics]\nmax_projects = 0\n[redis]\ntimeout = \"soon\"\n")
	_, stderr, code = runMavtop(t, "config", "--config", badValue)
	if code != 2 || !strings.Contains(stderr, "line 4") {
		t.Errorf("bad duration: exit %d, %s", code, stderr)
	}
	badEnv := writeConfig(t, "")
	t.Setenv("MAVTOP_ALERTS_THRESHOLDS", "90,50,10")
	_, stderr, code = runMavtop(t, "config", "--config", badEnv)
	if code != 2 || !strings.Contains(stderr, "MAVTOP_ALERTS_THRESHOLDS") {
		t.Errorf("bad env thresholds: exit %d, %s", code, stderr)
	}
}

// The file reaches real commands: check reads its Redis and thresholds from it,
// and a flag still wins.
func TestConfigFileDrivesCommands(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("REDIS_URL", "")
	t.Setenv("MAVTOP_CONFIG", "")
	srv := feedtest.Start(t)
	seedLevels(t, srv) // calm 10 %, busy 80 %, hot 95 % with a 402, loose without allocation
	relaxed := writeConfig(t, "[redis]\nurl = \""+srv.URL+"\"\n\n[alerts]\nwarn = 96\ncrit = 99\n")
	if out, stderr, code := runMavtop(t, "check", "--config", relaxed); code != 0 {
		t.Errorf("check with the file's Redis and thresholds: exit %d\n%s%s", code, out, stderr)
	}
	if _, _, code := runMavtop(t, "check", "--config", relaxed, "--warn", "50", "--crit", "90"); code != 2 {
		t.Errorf("--warn 50 --crit 90 over the file: exit %d, want 2", code)
	}
	t.Setenv("MAVTOP_CONFIG", relaxed) // $MAVTOP_CONFIG chooses the file too
	if _, _, code := runMavtop(t, "check"); code != 0 {
		t.Errorf("check with $MAVTOP_CONFIG: exit %d", code)
	}
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0") // env beats file: nothing listens there
	if _, _, code := runMavtop(t, "check"); code != 3 {
		t.Errorf("REDIS_URL over the file: exit %d, want 3 (unknown)", code)
	}

	// alerts.thresholds fills the dashboard's --default-alerts (no global state).
	t.Setenv("REDIS_URL", "")
	withThresholds := writeConfig(t, "[redis]\nurl = \""+srv.URL+"\"\n[alerts]\nthresholds = [20, 40, 60]\n")
	out, stderr, code := runMavtop(t, "config", "--config", withThresholds)
	if code != 0 || !strings.Contains(out, "thresholds = [20, 40, 60]") {
		t.Fatalf("config: exit %d\n%s%s", code, out, stderr)
	}
	var dash dashboardFlags
	cmd := &cobra.Command{Use: "mavtop"}
	dash.addFlags(cmd)
	if err := cmd.Flags().Set("default-alerts", "20,40,60"); err != nil {
		t.Fatal(err)
	}
	if a, err := dash.alerts(); err != nil || len(a) != 3 || a[0] != 20 || a[2] != 60 {
		t.Fatalf("--default-alerts parsed as %v, %v", a, err)
	}
	if err := cmd.Flags().Set("default-alerts", "60,40,20"); err == nil {
		if _, err := dash.alerts(); err == nil {
			t.Fatal("descending thresholds accepted")
		}
	}
}

// The sample mavtop.toml in the README loads.
func TestREADMESampleConfigLoads(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no ## Configuration")
	}
	_, block, ok := strings.Cut(section, "```toml\n")
	if !ok {
		t.Fatal("no toml block in ## Configuration")
	}
	block, _, _ = strings.Cut(block, "```")
	f, err := config.Load(writeConfig(t, block))
	if err != nil {
		t.Fatalf("README sample: %v", err)
	}
	for _, key := range []string{"redis.url", "ssh.listen", "metrics.listen", "alerts.thresholds", "theme.no_color"} {
		if _, _, ok := f.Value(key); !ok {
			t.Errorf("README sample lacks %s", key)
		}
	}
}

// `mavtop config` saved as the file and loaded back changes nothing: a
// workspace's own thresholds still judge it in check, and a redacted Redis
// password is not loaded as one. Before, the output set every default as
// given (alerts.warn 75 and crit 90 replaced acme's own 50/60/70: WARNING
// became OK) and an empty default (redis.sentinel_master = "") was refused.
func TestSavedConfigOutputChangesNothing(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, v := range []string{"REDIS_URL", "MAVTOP_REDIS_URL", "MAVTOP_CONFIG", "MAVTOP_SSH_LISTEN"} {
		t.Setenv(v, "")
	}
	srv := feedtest.Start(t)
	ctx := context.Background()
	if err := feed.NewSettingsStore(srv.Client(), feed.StoreOptions{}).SetWorkspace(ctx, "acme", model.Settings{Allocation: 100, Alerts: []int{50, 60, 70}}); err != nil {
		t.Fatal(err)
	}
	if err := feed.NewPublisher(srv.Client(), feed.PublisherOptions{}).Track(ctx, model.Event{Workspace: "acme", Endpoint: "/responses", Credits: 65, Status: 200}); err != nil {
		t.Fatal(err)
	}
	given := writeConfig(t, "[redis]\nurl = \""+srv.URL+"\"\n[ssh]\nidle_timeout = \"10m\"\n")
	want, stderr, code := runMavtop(t, "check", "--config", given)
	if code != 1 || !strings.HasPrefix(want, "MAVTOP WARNING") {
		t.Fatalf("check by acme's own thresholds (65 %% of 100, warn at 60): exit %d\n%s%s", code, want, stderr)
	}
	saved, stderr, code := runMavtop(t, "config", "--config", given)
	if code != 0 {
		t.Fatalf("config: exit %d\n%s", code, stderr)
	}
	for _, l := range []string{`url = "` + srv.URL + `"`, `idle_timeout = "10m0s"`} {
		if !strings.Contains(saved, "\n"+l) {
			t.Errorf("the given %s is not set in the output:\n%s", l, saved)
		}
	}
	for _, l := range []string{"warn = 75", "crit = 90", `sentinel_master = ""`} {
		if strings.Contains(saved, "\n"+l) {
			t.Errorf("the default %s is set in the output, not commented out:\n%s", l, saved)
		}
	}
	got, stderr, code := runMavtop(t, "check", "--config", writeConfig(t, saved))
	if code != 1 || got != want {
		t.Errorf("check with the saved output: exit %d, want 1 and the same output\ngot:\n%s\nwant:\n%s%s", code, got, want, stderr)
	}

	// a redacted password is commented out, never loaded as the password
	withPassword := writeConfig(t, "[redis]\nurl = \"redis://:secretpw@127.0.0.1:1/0\"\n")
	saved, _, _ = runMavtop(t, "config", "--config", withPassword)
	if strings.Contains(saved, "secretpw") || !strings.Contains(saved, `# url = "redis://:xxxxx@127.0.0.1:1/0"`) {
		t.Errorf("the redacted URL is not commented out:\n%s", saved)
	}
	if f, err := config.Load(writeConfig(t, saved)); err != nil {
		t.Errorf("the output does not load: %v", err)
	} else if v, _, ok := f.Value("redis.url"); ok {
		t.Errorf("the saved output sets redis.url = %q", v)
	}
}
