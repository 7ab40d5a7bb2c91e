package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"mavtop/feed"
)

// Source says where a setting's value came from.
type Source string

// The sources, strongest first.
const (
	FromFlag    Source = "flag"
	FromEnv     Source = "env"
	FromFile    Source = "file"
	FromDefault Source = "default"
)

// Setting is one key's value in effect.
type Setting struct {
	Key Key
	// Value is in flag syntax ("30m0s", "50,75,90", "true"); not redacted.
	Value  string
	Source Source
	// Origin names the flag, variable or file:line the value came from.
	Origin string
}

// Shown is the value as it may be printed: secrets redacted.
func (s Setting) Shown() string {
	switch s.Key.Secret {
	case URLPassword:
		return RedactURL(s.Value)
	case APIKey:
		return RedactAPIKey(s.Value)
	case URLTokens:
		return RedactURLTokens(s.Value)
	}
	return s.Value
}

// RedactURLTokens keeps only the scheme and host of each space-separated URL:
// webhook and chat URLs carry their tokens in the path, query or user info.
func RedactURLTokens(s string) string {
	f := strings.Fields(s)
	for i, u := range f {
		scheme, rest, ok := strings.Cut(u, "://")
		if !ok {
			f[i] = "…"
			continue
		}
		host, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
		host, _, _ = strings.Cut(host, "?")
		f[i] = scheme + "://" + host + "/…"
	}
	return strings.Join(f, " ")
}

// Resolve settles every key that fs has a flag for, and every key without a
// flag: a flag given on the command line stays; else the first environment
// variable set, else the file, is written into the flag (without marking it
// changed); else the default holds. Keys whose flag fs does not have belong to
// other commands and are left out. A value the flag (or the key's kind) does
// not accept is an error naming where it came from.
func Resolve(fs *pflag.FlagSet, f *File, getenv func(string) string) ([]Setting, error) {
	var out []Setting
	for _, k := range Keys() {
		var fl *pflag.Flag
		if k.Flag != "" {
			if fl = fs.Lookup(k.Flag); fl == nil || !k.fills(fs) {
				continue
			}
		}
		s := Setting{Key: k, Source: FromDefault, Value: k.Default}
		if fl != nil {
			s.Value = fl.DefValue
		}
		if fl != nil && fl.Changed {
			s.Source, s.Origin, s.Value = FromFlag, "--"+k.Flag, fl.Value.String()
			out = append(out, s)
			continue
		}
		if name, v, ok := lookupEnv(k, getenv); ok {
			s.Source, s.Origin, s.Value = FromEnv, name, v
		} else if v, line, ok := f.Value(k.Name); ok && k.InFile() {
			s.Source, s.Origin, s.Value = FromFile, fmt.Sprintf("%s:%d", f.Path, line), v
		}
		if s.Source != FromDefault {
			err := k.checkKind(s.Value) // the key's own rules, whatever the flag takes
			if err == nil && fl != nil {
				err = fl.Value.Set(s.Value)
				s.Value = fl.Value.String()
			}
			if err != nil {
				return nil, fmt.Errorf("%s (from %s): %q: %v", k.Name, s.Origin, Setting{Key: k, Value: s.Value}.Shown(), err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// fills reports whether the key may fill fs's flag: any command's, unless the
// key belongs to one command; `mavtop config` carries every command's keyed flags.
func (k Key) fills(fs *pflag.FlagSet) bool {
	return k.Command == "" || fs.Name() == k.Command || fs.Name() == "config"
}

// lookupEnv returns the first of the key's variables that is set.
func lookupEnv(k Key, getenv func(string) string) (name, value string, ok bool) {
	for _, e := range k.Env {
		v := getenv(e.Name)
		if v == "" {
			continue
		}
		if e.Presence {
			v = "true"
		}
		return e.Name, v, true
	}
	return "", "", false
}

// Get returns the setting of key from settings.
func Get(settings []Setting, key string) (Setting, bool) {
	for _, s := range settings {
		if s.Key.Name == key {
			return s, true
		}
	}
	return Setting{}, false
}

// RedactURL hides the password of a URL, or of each of a comma-separated list.
func RedactURL(s string) string { return feed.RedactURL(s) }

// RedactAPIKey shows an API key's kind prefix and its last four characters:
// mvra_live_…abcd. Short keys are hidden whole.
func RedactAPIKey(s string) string {
	if s == "" {
		return ""
	}
	if len(s) < 12 {
		return "…"
	}
	prefix := ""
	if i := strings.LastIndex(s[:min(len(s)-4, 16)], "_"); i >= 0 {
		prefix = s[:i+1]
	}
	return prefix + "…" + s[len(s)-4:]
}

// TOML formats a value of kind k as a TOML value.
func TOML(k Kind, v string) string {
	switch k {
	case Int, Float, Bool:
		if v == "" {
			return `""`
		}
		return v
	case IntList:
		l, _ := ParseIntList(v)
		parts := make([]string, len(l))
		for i, n := range l {
			parts[i] = strconv.Itoa(n)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case StringList:
		f := strings.Fields(v)
		for i := range f {
			f[i] = strconv.Quote(f[i])
		}
		return "[" + strings.Join(f, ", ") + "]"
	}
	return strconv.Quote(v)
}
