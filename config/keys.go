package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"mavtop/model"
)

// Kind is the type of a setting's value.
type Kind uint8

const (
	// String is a TOML string.
	String Kind = iota
	// Int is a TOML integer.
	Int
	// Float is a TOML number.
	Float
	// Bool is true or false.
	Bool
	// Duration is a TOML string holding a Go duration ("30m").
	Duration
	// IntList is an array of integers ([50, 75, 90]).
	IntList
	// StringList is an array of strings (["https://…", "slack://…"]); in the
	// environment and in flag syntax, separated by spaces.
	StringList
)

// Secret says how a setting's value is shown.
type Secret uint8

const (
	// Plain values are shown as they are.
	Plain Secret = iota
	// URLPassword values are URLs whose password is hidden.
	URLPassword
	// APIKey values show only their prefix and last four characters.
	APIKey
	// URLTokens values are space-separated URLs whose path, query and user
	// info may hold tokens: only scheme and host are shown.
	URLTokens
)

// EnvVar is an environment variable a setting is read from.
type EnvVar struct {
	Name string
	// Presence: any non-empty value means true (NO_COLOR's convention).
	Presence bool
}

// Key is one setting: its name in the file ("section.key"), the flag it fills
// in, the environment variables it is read from (first set wins), and its kind.
type Key struct {
	Name string
	// Flag is the long flag name, "" for a setting without one.
	Flag string
	// Command, when set, is the only command whose flag of that name the key
	// fills (another command may use the same flag name for something else:
	// `mavtop sandbox --listen` is not proxy.listen).
	Command string
	Env     []EnvVar
	Kind    Kind
	// Secret says how to show the value.
	Secret Secret
	// EnvOnly settings are never read from the file (the API key).
	EnvOnly bool
	// Default is the value of a setting without a flag (flags carry their own).
	Default string
	// Check validates a value beyond its kind; may be nil.
	Check func(string) error
	// Help says what the setting does, for `mavtop config` and the README.
	Help string
}

// InFile reports whether the file may hold the key.
func (k Key) InFile() bool { return !k.EnvOnly }

func env(names ...string) []EnvVar {
	out := make([]EnvVar, len(names))
	for i, n := range names {
		out[i] = EnvVar{Name: n}
	}
	return out
}

// envName is the MAVTOP_ variable of a key: redis.key_prefix → MAVTOP_REDIS_KEY_PREFIX.
func envName(key string) string {
	return "MAVTOP_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(key))
}

// DefaultThresholds returns model's built-in alert thresholds in flag syntax
// ("50,75,90"), the default of --default-alerts.
func DefaultThresholds() string {
	parts := make([]string, 0, 3)
	for _, t := range model.DefaultThresholds() {
		parts = append(parts, strconv.Itoa(t))
	}
	return strings.Join(parts, ",")
}

// Keys returns every setting, in the order `mavtop config` prints them.
func Keys() []Key {
	k := func(name, flag string, kind Kind, help string, extraEnv ...string) Key {
		return Key{Name: name, Flag: flag, Kind: kind, Help: help, Env: env(append([]string{envName(name)}, extraEnv...)...)}
	}
	redisURL := k("redis.url", "redis", String, "Redis URL of the usage stream; none: demo mode", "REDIS_URL")
	redisURL.Secret = URLPassword
	apiKey := Key{Name: "api.key", Env: env("MAVERA_API_KEY"), Kind: String, Secret: APIKey, EnvOnly: true,
		Help: "Mavera API key for launches; only read from the environment"}
	thresholds := k("alerts.thresholds", "default-alerts", IntList, "alert thresholds (percent) of workspaces without their own: three, ascending")
	thresholds.Default, thresholds.Check = DefaultThresholds(), checkThresholds
	proxyKey := func(name, flag string, kind Kind, help string) Key {
		key := k(name, flag, kind, help)
		key.Command = "proxy"
		return key
	}
	noColor := k("theme.no_color", "no-color", Bool, "draw without colour (levels stay readable by their words and symbols)")
	noColor.Env = append(noColor.Env, EnvVar{Name: "NO_COLOR", Presence: true})
	theme := k("theme.mode", "theme", String, "colours for a dark or light terminal background: auto, dark or light")
	theme.Default, theme.Check = "auto", checkTheme
	notifyURLs := k("notify.urls", "notify", StringList, "alert notifications: webhook URLs (JSON POST) and chat URLs (slack://, discord://, teams://, smtp://, telegram://…); environment: separated by spaces")
	notifyURLs.Secret = URLTokens
	return []Key{
		redisURL,
		k("redis.key_prefix", "key-prefix", String, "prefix of every Redis key"),
		k("redis.sentinel_master", "redis-sentinel-master", String, "Sentinel master name"),
		k("redis.timeout", "redis-timeout", Duration, "how long to wait for Redis"),
		k("api.base", "api-base", String, "Mavera API base URL for launches"),
		k("api.reconcile", "reconcile", Duration, "how often to compare with GET /usage"),
		apiKey,
		thresholds,
		k("alerts.warn", "warn", Float, "mavtop check: warning at this percent used"),
		k("alerts.crit", "crit", Float, "mavtop check: critical at this percent used"),
		k("alerts.bell", "bell", Bool, "ring the terminal bell on new alerts"),
		k("alerts.stale", "stale", Duration, "alert when Redis is unreachable or the stream read late this long"),
		notifyURLs,
		k("ssh.listen", "ssh", String, "mavtop serve: SSH address"),
		k("ssh.host_key", "host-key", String, "mavtop serve: host key file (created on first start)"),
		k("ssh.authorized_keys", "authorized-keys", String, "mavtop serve: public keys that may connect"),
		k("ssh.launch_keys", "launch-keys", String, "mavtop serve: public keys that may also launch jobs"),
		k("ssh.idle_timeout", "idle-timeout", Duration, "mavtop serve: end sessions without input for this long"),
		k("metrics.listen", "metrics", String, "Prometheus metrics address (none: off)"),
		k("metrics.max_projects", "metrics-max-projects", Int, "projects per workspace with series of their own"),
		k("metrics.max_workspaces", "metrics-max-workspaces", Int, "workspaces with series of their own (most severe first)"),
		proxyKey("proxy.listen", "listen", String, "mavtop proxy: address to listen on (a port alone binds loopback)"),
		proxyKey("proxy.upstream", "upstream", String, "mavtop proxy: API base URL requests are forwarded to"),
		proxyKey("proxy.workspace", "workspace", String, "mavtop proxy: workspace of calls that name none"),
		proxyKey("proxy.keys", "keys", String, "mavtop proxy: file of proxy tokens (TOKEN API_KEY WORKSPACE [PROJECT] per line)"),
		proxyKey("proxy.no_preflight", "no-preflight", Bool, "mavtop proxy: forward priced jobs without the pre-flight check"),
		proxyKey("proxy.max_body", "max-body", Int, "mavtop proxy: largest request body in bytes"),
		proxyKey("proxy.upstream_timeout", "upstream-timeout", Duration, "mavtop proxy: longest wait for the API's response headers"),
		proxyKey("proxy.idle_timeout", "client-idle-timeout", Duration, "mavtop proxy: close keep-alive connections idle this long"),
		proxyKey("proxy.track_queue", "track-queue", Int, "mavtop proxy: usage events kept in memory while Redis is away"),
		proxyKey("proxy.budget_cache", "budget-cache", Duration, "mavtop proxy: how long a budget read may judge the chats after it (negative: always read Redis)"),
		proxyKey("proxy.job_poll", "job-poll", Duration, "mavtop proxy: poll a job upstream once no one polled it through the proxy this long (negative: never)"),
		proxyKey("proxy.drain_timeout", "drain-timeout", Duration, "mavtop proxy: how long to read on an answer its application left, to learn its charge"),
		noColor,
		theme,
	}
}

// checkTheme accepts the themes the dashboard knows.
func checkTheme(s string) error {
	switch s {
	case "auto", "dark", "light":
		return nil
	}
	return fmt.Errorf("%q is not a theme: want auto, dark or light", s)
}

// Lookup returns the key named name.
func Lookup(name string) (Key, bool) {
	for _, k := range Keys() {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// checkKind validates a value of a setting without a flag.
func (k Key) checkKind(v string) error {
	var err error
	switch k.Kind {
	case Int:
		_, err = strconv.Atoi(v)
	case Float:
		_, err = strconv.ParseFloat(v, 64)
	case Bool:
		_, err = strconv.ParseBool(v)
	case Duration:
		_, err = time.ParseDuration(v)
	case IntList:
		_, err = ParseIntList(v)
	}
	if err == nil && k.Check != nil {
		err = k.Check(v)
	}
	return err
}

// ParseIntList reads "50,75,90" (spaces allowed, brackets too).
func ParseIntList(s string) ([]int, error) {
	s = strings.Trim(strings.TrimSpace(s), "[]")
	var out []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// Thresholds parses alerts.thresholds.
func Thresholds(s string) ([3]int, error) {
	var t [3]int
	if err := checkThresholds(s); err != nil {
		return t, err
	}
	l, _ := model.ParseThresholds(s)
	copy(t[:], l)
	return t, nil
}

func checkThresholds(s string) error {
	_, err := model.ParseThresholds(s)
	return err
}
