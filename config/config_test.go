package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// flags is a command's flag set, as the real commands declare them.
func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("redis", "", "")
	fs.String("key-prefix", "{mavtop}", "")
	fs.Duration("idle-timeout", 30*time.Minute, "")
	fs.Int("metrics-max-projects", 20, "")
	fs.Bool("no-color", false, "")
	fs.Float64("warn", 75, "")
	fs.String("default-alerts", DefaultThresholds(), "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestPrecedenceFlagEnvFileDefault(t *testing.T) {
	file := writeFile(t, `
[redis]
url = "redis://file:6379/0"
key_prefix = "file:"

[ssh]
idle_timeout = "10m"

[metrics]
max_projects = 5

[alerts]
thresholds = [40, 60, 80]
warn = 70
`)
	f, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		file      *File
		key, want string
		source    Source
		origin    string
	}{
		{"flag beats env and file", []string{"--redis=redis://flag:1/0"}, map[string]string{"REDIS_URL": "redis://env:1/0"}, f, "redis.url", "redis://flag:1/0", FromFlag, "--redis"},
		{"env beats file", nil, map[string]string{"REDIS_URL": "redis://env:1/0"}, f, "redis.url", "redis://env:1/0", FromEnv, "REDIS_URL"},
		{"MAVTOP_ variable beats the common one", nil, map[string]string{"REDIS_URL": "redis://env:1/0", "MAVTOP_REDIS_URL": "redis://mine:1/0"}, f, "redis.url", "redis://mine:1/0", FromEnv, "MAVTOP_REDIS_URL"},
		{"file beats default", nil, nil, f, "redis.url", "redis://file:6379/0", FromFile, file + ":3"},
		{"default", nil, nil, &File{}, "redis.url", "", FromDefault, ""},
		{"file prefix", nil, nil, f, "redis.key_prefix", "file:", FromFile, file + ":4"},
		{"default prefix", nil, nil, nil, "redis.key_prefix", "{mavtop}", FromDefault, ""},
		{"duration from file", nil, nil, f, "ssh.idle_timeout", "10m0s", FromFile, file + ":7"},
		{"duration from env", nil, map[string]string{"MAVTOP_SSH_IDLE_TIMEOUT": "90s"}, f, "ssh.idle_timeout", "1m30s", FromEnv, "MAVTOP_SSH_IDLE_TIMEOUT"},
		{"duration from flag", []string{"--idle-timeout=1h"}, map[string]string{"MAVTOP_SSH_IDLE_TIMEOUT": "90s"}, f, "ssh.idle_timeout", "1h0m0s", FromFlag, "--idle-timeout"},
		{"int from file", nil, nil, f, "metrics.max_projects", "5", FromFile, file + ":10"},
		{"float from file", nil, nil, f, "alerts.warn", "70", FromFile, file + ":14"},
		{"NO_COLOR means true", nil, map[string]string{"NO_COLOR": "1"}, f, "theme.no_color", "true", FromEnv, "NO_COLOR"},
		{"--no-color=false beats NO_COLOR", []string{"--no-color=false"}, map[string]string{"NO_COLOR": "1"}, f, "theme.no_color", "false", FromFlag, "--no-color"},
		{"flagless key from file", nil, nil, f, "alerts.thresholds", "40,60,80", FromFile, file + ":13"},
		{"flagless key from env", nil, map[string]string{"MAVTOP_ALERTS_THRESHOLDS": "10,20,30"}, f, "alerts.thresholds", "10,20,30", FromEnv, "MAVTOP_ALERTS_THRESHOLDS"},
		{"flagless key default", nil, nil, nil, "alerts.thresholds", DefaultThresholds(), FromDefault, ""},
		{"API key from env", nil, map[string]string{"MAVERA_API_KEY": "mvra_live_0123456789abcdefghijklmnopqrstuv"}, f, "api.key", "mvra_live_0123456789abcdefghijklmnopqrstuv", FromEnv, "MAVERA_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flags(t, tt.args...)
			got, err := Resolve(fs, tt.file, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			s, ok := Get(got, tt.key)
			if !ok {
				t.Fatalf("no %s in %v", tt.key, got)
			}
			if s.Value != tt.want || s.Source != tt.source || s.Origin != tt.origin {
				t.Errorf("%s = %q from %s %s; want %q from %s %s", tt.key, s.Value, s.Source, s.Origin, tt.want, tt.source, tt.origin)
			}
			// The value reached the flag, without marking it given.
			if s.Key.Flag != "" {
				fl := fs.Lookup(s.Key.Flag)
				if fl.Value.String() != tt.want {
					t.Errorf("flag --%s = %q, want %q", s.Key.Flag, fl.Value.String(), tt.want)
				}
				if fl.Changed != (tt.source == FromFlag) {
					t.Errorf("flag --%s changed = %v", s.Key.Flag, fl.Changed)
				}
			}
		})
	}
	// Keys of flags this command does not have are left out.
	got, _ := Resolve(flags(t), f, envOf(nil))
	if _, ok := Get(got, "ssh.listen"); ok {
		t.Error("ssh.listen resolved for a command without --ssh")
	}
}

func TestBadValuesNameTheirOrigin(t *testing.T) {
	_, err := Resolve(flags(t), nil, envOf(map[string]string{"MAVTOP_SSH_IDLE_TIMEOUT": "soon"}))
	if err == nil || !strings.Contains(err.Error(), "ssh.idle_timeout (from MAVTOP_SSH_IDLE_TIMEOUT)") {
		t.Errorf("bad env duration: %v", err)
	}
	_, err = Resolve(flags(t), nil, envOf(map[string]string{"MAVTOP_ALERTS_THRESHOLDS": "90,50"}))
	if err == nil || !strings.Contains(err.Error(), "three thresholds") {
		t.Errorf("bad thresholds: %v", err)
	}
	_, err = Resolve(flags(t), nil, envOf(map[string]string{"MAVTOP_ALERTS_THRESHOLDS": "50,40,90"}))
	if err == nil || !strings.Contains(err.Error(), "ascend") {
		t.Errorf("descending thresholds: %v", err)
	}
	_, err = Resolve(flags(t), nil, envOf(map[string]string{"MAVTOP_METRICS_MAX_PROJECTS": "many"}))
	if err == nil || !strings.Contains(err.Error(), "metrics.max_projects") {
		t.Errorf("bad int: %v", err)
	}
}

func TestUnknownKeysAndBadTypesAreErrorsWithLines(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string
	}{
		{"misspelt key", "[redis]\nurl = \"redis://h\"\nkey_prefx = \"x\"\n", []string{":3:", `unknown key "redis.key_prefx"`, "redis.key_prefix"}},
		{"unknown section", "[redis]\nurl = \"redis://h\"\n\n[colours]\nfg = 1\n", []string{":4:", `unknown key "colours"`, "[theme]"}},
		{"top-level key", "# mavtop\nredis_url = \"redis://h\"\n", []string{":2:", `unknown key "redis_url"`}},
		{"dotted key", "ssh.listn = \"h:22\"\n", []string{":1:", `unknown key "ssh.listn"`}},
		{"API key in the file", "[api]\nkey = \"mvra_live_x\"\n", []string{":2:", "MAVERA_API_KEY"}},
		{"wrong type", "[redis]\ntimeout = 5\n", []string{"line 2", "redis.timeout"}},
		{"bad duration", "[ssh]\nidle_timeout = \"half an hour\"\n", []string{"line 2", "not a duration"}},
		{"not TOML", "[redis\n", []string{"config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.content))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "mvra_live_x") {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"XDG_CONFIG_HOME": dir, "HOME": "/nonexistent"}
	f, err := Find("", envOf(env))
	if err != nil || f.Path != "" {
		t.Fatalf("missing default file: %+v, %v", f, err)
	}
	if _, err := Find(filepath.Join(dir, "nope.toml"), envOf(env)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing --config file: %v", err)
	}
	env[EnvPath] = filepath.Join(dir, "also-nope.toml")
	if _, err := Find("", envOf(env)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing $MAVTOP_CONFIG file: %v", err)
	}
	delete(env, EnvPath)
	os.MkdirAll(filepath.Join(dir, "mavtop"), 0o700)
	os.WriteFile(filepath.Join(dir, "mavtop", FileName), []byte("[metrics]\nlisten = \"127.0.0.1:9464\"\n"), 0o600)
	f, err = Find("", envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if v, line, ok := f.Value("metrics.listen"); !ok || v != "127.0.0.1:9464" || line != 2 {
		t.Errorf("metrics.listen = %q line %d %v", v, line, ok)
	}
	p, _ := DefaultPath(envOf(map[string]string{"HOME": "/home/op"}))
	if p != "/home/op/.config/mavtop/mavtop.toml" {
		t.Errorf("default path without XDG_CONFIG_HOME: %s", p)
	}
}

func TestRedaction(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:s3cret@h:6379/0":                    "redis://:xxxxx@h:6379/0",
		"rediss://ops:s3cret@h:6380/1":                "rediss://ops:xxxxx@h:6380/1",
		"redis://s3cret@h:6379":                       "redis://xxxxx@h:6379",
		"redis://a:s3cret@h1:1,redis://a:s3cret@h2:2": "redis://a:xxxxx@h1:1,redis://a:xxxxx@h2:2",
		"redis://h:6379/0":                            "redis://h:6379/0",
		"redis://:p@ss@h:6379":                        "redis://:xxxxx@h:6379",
		"":                                            "",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"mvra_live_0123456789abcdefghijklmnopqrstuvabcd": "mvra_live_…abcd",
		"mvra_test_zzzzzzzzzzzzzzzzzzzzzzzz9876":         "mvra_test_…9876",
		"plainsecretvalue1234":                           "…1234",
		"short":                                          "…",
		"":                                               "",
	} {
		if got := RedactAPIKey(in); got != want {
			t.Errorf("RedactAPIKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintRedactsAndReloads(t *testing.T) {
	file := writeFile(t, "[redis]\nurl = \"redis://:filepass@h:6379/0\"\n[alerts]\nthresholds = [40, 60, 80]\n")
	f, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	fs := flags(t, "--key-prefix=cli:")
	fs.String("ssh", "127.0.0.1:2222", "")
	settings, err := Resolve(fs, f, envOf(map[string]string{"MAVERA_API_KEY": "mvra_live_0123456789abcdefghijklmnopqrstuvWXYZ"}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Print(&out, settings, f.Path, f.Path); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, bad := range []string{"filepass", "0123456789"} {
		if strings.Contains(s, bad) {
			t.Errorf("secret %q printed:\n%s", bad, s)
		}
	}
	for _, want := range []string{
		`url = "redis://:xxxxx@h:6379/0"`, "# file " + file + ":2",
		`key_prefix = "cli:"`, "# flag --key-prefix",
		`# key = "mvra_live_…WXYZ"`, "# env MAVERA_API_KEY",
		"thresholds = [40, 60, 80]", `listen = "127.0.0.1:2222"`, "# default",
		`idle_timeout = "30m0s"`, "max_projects = 20", "no_color = false", "warn = 75",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// The output is a mavtop.toml again, with the same values.
	again, err := Load(writeFile(t, s))
	if err != nil {
		t.Fatalf("printed configuration does not load: %v\n%s", err, s)
	}
	if v, _, _ := again.Value("redis.key_prefix"); v != "cli:" {
		t.Errorf("reloaded key_prefix %q", v)
	}
	// What was not given is not set by the saved file: a default written out
	// would count as given, a redacted secret would load as a wrong password.
	for _, key := range []string{"ssh.idle_timeout", "alerts.warn", "redis.url"} {
		if v, _, ok := again.Value(key); ok {
			t.Errorf("reloaded %s = %q: the saved file sets what was not given", key, v)
		}
	}
	if v, _, _ := again.Value("alerts.thresholds"); v != "40,60,80" && v != "[40, 60, 80]" {
		t.Errorf("reloaded thresholds %q", v)
	}
}

func TestEveryKeyHasAFieldInTheFile(t *testing.T) {
	var content strings.Builder
	section := ""
	for _, k := range Keys() {
		if !k.InFile() {
			continue
		}
		sec, name, _ := strings.Cut(k.Name, ".")
		if sec != section {
			content.WriteString("[" + sec + "]\n")
			section = sec
		}
		v := map[Kind]string{String: `"x"`, Int: "1", Float: "1.5", Bool: "true", Duration: `"1s"`, IntList: "[1, 2, 3]", StringList: `["x"]`}[k.Kind]
		content.WriteString(name + " = " + v + "\n")
	}
	f, err := Load(writeFile(t, content.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, content.String())
	}
	for _, k := range Keys() {
		if _, _, ok := f.Value(k.Name); ok != k.InFile() {
			t.Errorf("%s: in file %v", k.Name, ok)
		}
	}
}

// A key that belongs to one command fills only that command's flag: proxy.listen
// is not `mavtop sandbox --listen`.
func TestCommandKeyFillsOnlyItsCommand(t *testing.T) {
	f, err := Load(writeFile(t, "[proxy]\nlisten = \"127.0.0.1:9999\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"sandbox": "127.0.0.1:8787", "proxy": "127.0.0.1:9999", "config": "127.0.0.1:9999"} {
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		listen := fs.String("listen", "127.0.0.1:8787", "")
		if _, err := Resolve(fs, f, func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		if *listen != want {
			t.Errorf("%s --listen = %s, want %s", name, *listen, want)
		}
	}
}
