// Package config reads mavtop's optional configuration file (mavtop.toml) and
// resolves every setting by precedence: a command-line flag, else the
// environment, else the file, else the built-in default. It knows each
// setting's flag, environment variables and kind (Keys), so commands keep their
// flags as they are and the file and the environment only fill in the flags the
// user did not give.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// FileName is the configuration file's name in the config directory.
const FileName = "mavtop.toml"

// EnvPath names the environment variable that chooses the file (like --config).
const EnvPath = "MAVTOP_CONFIG"

// schema is the file's layout: every key the file may hold. Decoding into it
// lets toml's MetaData.Undecoded name every other key. Every field is
// optional; Keys lists the same keys with their flags and environment variables.
type schema struct {
	Redis struct {
		URL            *string   `toml:"url"`
		KeyPrefix      *string   `toml:"key_prefix"`
		SentinelMaster *string   `toml:"sentinel_master"`
		Timeout        *duration `toml:"timeout"`
	} `toml:"redis"`
	API struct {
		Base      *string   `toml:"base"`
		Reconcile *duration `toml:"reconcile"`
	} `toml:"api"`
	Alerts struct {
		Thresholds []int     `toml:"thresholds"`
		Warn       *float64  `toml:"warn"`
		Crit       *float64  `toml:"crit"`
		Bell       *bool     `toml:"bell"`
		Stale      *duration `toml:"stale"`
	} `toml:"alerts"`
	Notify struct {
		URLs []string `toml:"urls"`
	} `toml:"notify"`
	SSH struct {
		Listen         *string   `toml:"listen"`
		HostKey        *string   `toml:"host_key"`
		AuthorizedKeys *string   `toml:"authorized_keys"`
		LaunchKeys     *string   `toml:"launch_keys"`
		IdleTimeout    *duration `toml:"idle_timeout"`
	} `toml:"ssh"`
	Metrics struct {
		Listen        *string `toml:"listen"`
		MaxProjects   *int    `toml:"max_projects"`
		MaxWorkspaces *int    `toml:"max_workspaces"`
	} `toml:"metrics"`
	Proxy struct {
		Listen          *string   `toml:"listen"`
		Upstream        *string   `toml:"upstream"`
		Workspace       *string   `toml:"workspace"`
		Keys            *string   `toml:"keys"`
		NoPreflight     *bool     `toml:"no_preflight"`
		MaxBody         *int      `toml:"max_body"`
		UpstreamTimeout *duration `toml:"upstream_timeout"`
		IdleTimeout     *duration `toml:"idle_timeout"`
		TrackQueue      *int      `toml:"track_queue"`
		BudgetCache     *duration `toml:"budget_cache"`
		JobPoll         *duration `toml:"job_poll"`
		DrainTimeout    *duration `toml:"drain_timeout"`
	} `toml:"proxy"`
	Theme struct {
		NoColor *bool   `toml:"no_color"`
		Mode    *string `toml:"mode"`
	} `toml:"theme"`
}

// duration is a Go duration written as a TOML string ("30m", "1h30m").
type duration struct{ text string }

func (d *duration) UnmarshalText(b []byte) error {
	if _, err := time.ParseDuration(string(b)); err != nil {
		return fmt.Errorf("not a duration (write it like \"30s\", \"5m\" or \"1h30m\"): %w", err)
	}
	d.text = string(b)
	return nil
}

// File is a parsed configuration file.
type File struct {
	// Path is the file read; "" when there was none (a missing default file).
	Path   string
	values map[string]fileValue
}

type fileValue struct {
	text string // in flag syntax ("30m", "50,75,90", "true")
	line int
}

// Value returns a key's value in flag syntax and the line it is on.
func (f *File) Value(key string) (text string, line int, ok bool) {
	if f == nil {
		return "", 0, false
	}
	v, ok := f.values[key]
	return v.text, v.line, ok
}

// DefaultPath is where the file is looked for without --config:
// $XDG_CONFIG_HOME/mavtop/mavtop.toml, else ~/.config/mavtop/mavtop.toml.
func DefaultPath(getenv func(string) string) (string, error) {
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "mavtop", FileName), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the config directory: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".config", "mavtop", FileName), nil
}

// Find reads the file chosen by path (--config), else by $MAVTOP_CONFIG, else
// the default one. A file that was asked for must exist; a missing default
// file is no error and yields an empty File.
func Find(path string, getenv func(string) string) (*File, error) {
	if path == "" {
		path = getenv(EnvPath)
	}
	if path != "" {
		return Load(path)
	}
	def, err := DefaultPath(getenv)
	if err != nil {
		return nil, err
	}
	f, err := Load(def)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{}, nil
	}
	return f, err
}

// Load reads and checks a configuration file. A key the file may not hold is
// an error naming the key and its line.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var s schema
	md, err := toml.Decode(string(data), &s)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if bad := md.Undecoded(); len(bad) > 0 {
		return nil, unknownKeyError(path, data, bad[0])
	}
	f := &File{Path: path, values: map[string]fileValue{}}
	flatten(reflect.ValueOf(s), "", func(key string, text string) {
		f.values[key] = fileValue{text: text, line: lineOf(data, strings.Split(key, "."))}
	})
	return f, nil
}

// flatten calls set for every key present in the decoded schema.
func flatten(v reflect.Value, prefix string, set func(key, text string)) {
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("toml")
		if prefix != "" {
			name = prefix + "." + name
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Struct:
			flatten(fv, name, set)
		case reflect.Slice:
			if fv.IsNil() {
				continue
			}
			parts := make([]string, fv.Len())
			for j := range parts {
				parts[j] = fmt.Sprint(fv.Index(j).Interface())
			}
			sep := ","
			if fv.Type().Elem().Kind() == reflect.String {
				sep = " " // URLs may hold commas, never spaces
			}
			set(name, strings.Join(parts, sep))
		case reflect.Pointer:
			if fv.IsNil() {
				continue
			}
			switch x := fv.Elem().Interface().(type) {
			case duration:
				set(name, x.text)
			case float64:
				set(name, strconv.FormatFloat(x, 'g', -1, 64))
			default:
				set(name, fmt.Sprint(x))
			}
		}
	}
}

func unknownKeyError(path string, data []byte, key toml.Key) error {
	where := path
	if n := lineOf(data, key); n > 0 {
		where = fmt.Sprintf("%s:%d", path, n)
	}
	name := key.String()
	if name == "api.key" {
		return fmt.Errorf("config %s: the API key is not read from the file: set MAVERA_API_KEY in the environment", where)
	}
	var known []string
	section := ""
	if len(key) > 1 {
		section = key[0]
	}
	for _, k := range Keys() {
		if sec, _, _ := strings.Cut(k.Name, "."); k.InFile() && (section == "" || sec == section) {
			known = append(known, k.Name)
		}
	}
	if len(known) == 0 || section == "" && len(key) == 1 {
		known = known[:0]
		for _, k := range Keys() {
			if sec, _, _ := strings.Cut(k.Name, "."); k.InFile() && !slices.Contains(known, "["+sec+"]") {
				known = append(known, "["+sec+"]")
			}
		}
	}
	return fmt.Errorf("config %s: unknown key %q (known: %s)", where, name, strings.Join(known, ", "))
}

// lineOf finds the line (1-based) a key is defined on, as a table header or an
// assignment; 0 when not found. It reads headers and dotted keys, the forms a
// configuration file uses.
func lineOf(data []byte, key toml.Key) int {
	want := strings.Join(key, ".")
	table := ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			name := strings.Trim(strings.SplitN(line, "]", 2)[0], "[ \t")
			table = normKey(name)
			if table == want {
				return i + 1
			}
			continue
		}
		lhs, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		full := normKey(lhs)
		if table != "" {
			full = table + "." + full
		}
		if full == want || strings.HasPrefix(want, full+".") {
			return i + 1
		}
	}
	return 0
}

func normKey(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}
