package cmd

import (
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"mavtop/config"
)

// configState is the configuration file and the settings in effect: the root's
// hook loads them before any command runs, `mavtop config` prints them.
type configState struct {
	// path is --config.
	path string
	// getenv reads the environment (os.Getenv).
	getenv   func(string) string
	file     *config.File
	settings []config.Setting
}

// addFlags registers --config on root, for every command.
func (c *configState) addFlags(root *cobra.Command) {
	root.PersistentFlags().StringVar(&c.path, "config", "", "configuration `file` (default $XDG_CONFIG_HOME/mavtop/mavtop.toml, or $MAVTOP_CONFIG; see mavtop config)")
}

// load is the root's PersistentPreRunE: it reads the configuration file and
// fills in every flag of cmd the command line did not give, from the
// environment or else the file (flag > env > file > default).
func (c *configState) load(cmd *cobra.Command, _ []string) error {
	if cmd.Name() == "help" || cmd.Name() == "completion" || cmd.HasParent() && cmd.Parent().Name() == "completion" {
		return nil // help works whatever the file says
	}
	getenv := c.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	f, err := config.Find(c.path, getenv)
	if err != nil {
		return exitf(2, "%v", err)
	}
	settings, err := config.Resolve(cmd.Flags(), f, getenv)
	if err != nil {
		return exitf(2, "config: %v", err)
	}
	c.file, c.settings = f, settings
	if err := emptyGiven(cmd, settings); err != nil {
		return err
	}
	for _, s := range settings {
		if s.Source == config.FromEnv || s.Source == config.FromFile {
			if fl := cmd.Flags().Lookup(s.Key.Flag); fl != nil && s.Key.Flag != "" {
				if fl.Annotations == nil {
					fl.Annotations = map[string][]string{}
				}
				fl.Annotations[configuredAnnotation] = []string{string(s.Source)}
			}
		}
	}
	return badDuration(cmd)
}

// configuredAnnotation marks a flag that the environment or mavtop.toml set
// (config.Resolve fills the value without marking the flag changed).
const configuredAnnotation = "mavtop/configured"

// given reports whether the flag was set by the command line, the environment
// or the configuration file, not left at its default.
func given(cmd *cobra.Command, name string) bool {
	fl := cmd.Flags().Lookup(name)
	return fl != nil && (fl.Changed || len(fl.Annotations[configuredAnnotation]) > 0)
}

func newConfigCmd(root *cobra.Command, c *configState) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the configuration in effect, each value with its source (secrets redacted)",
		Long: `Print the configuration in effect as a mavtop.toml: every setting, its value
and where it came from (flag, env, file or default). Precedence: a flag beats the
environment, which beats the file, which beats the default. The file is
$XDG_CONFIG_HOME/mavtop/mavtop.toml (~/.config/mavtop/mavtop.toml) unless --config
or $MAVTOP_CONFIG names another; it is optional, but one that is named must exist.
Passwords in Redis URLs and the API key are redacted.

This command takes the flags of every command, so "mavtop config --ssh :2222"
shows what "mavtop serve --ssh :2222" would use.`,
		Example: `  mavtop config
  mavtop config --config ./mavtop.toml --redis redis://localhost:6379/0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			getenv := c.getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			wanted := ""
			if c.path == "" && getenv(config.EnvPath) == "" {
				wanted, _ = config.DefaultPath(getenv)
			}
			return config.Print(cmd.OutOrStdout(), c.settings, c.file.Path, wanted)
		},
	}
	// The other commands' flags behind settings, sharing their values and defaults.
	fs := cmd.Flags()
	for _, k := range config.Keys() {
		if k.Flag == "" || fs.Lookup(k.Flag) != nil {
			continue
		}
		from := root
		if k.Command != "" {
			if from = findCommand(root, k.Command); from == nil {
				continue
			}
		}
		if fl := findFlag(from, k.Flag); fl != nil {
			fs.AddFlag(&pflag.Flag{Name: fl.Name, Usage: fl.Usage, Value: fl.Value, DefValue: fl.DefValue, NoOptDefVal: fl.NoOptDefVal})
		}
	}
	return cmd
}

// findFlag finds a flag on root or any command under it.
func findFlag(root *cobra.Command, name string) *pflag.Flag {
	if fl := root.Flags().Lookup(name); fl != nil {
		return fl
	}
	for _, sub := range root.Commands() {
		if fl := findFlag(sub, name); fl != nil {
			return fl
		}
	}
	return nil
}

// findCommand finds the command named name under root.
func findCommand(root *cobra.Command, name string) *cobra.Command {
	for _, sub := range root.Commands() {
		if sub.Name() == name {
			return sub
		}
		if c := findCommand(sub, name); c != nil {
			return c
		}
	}
	return nil
}

// nonEmptyAnnotation marks a string flag whose empty value means nothing
// (nonEmpty): given empty it is a usage error, never a silent fall back to the
// default ($REDIS_URL, {mavera}, the demo).
const nonEmptyAnnotation = "mavtop/non-empty"

// nonEmpty marks the flags of fl named: an empty value given for one of them,
// on the command line or in mavtop.toml, is a usage error (emptyGiven).
func nonEmpty(fl *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fl.SetAnnotation(n, nonEmptyAnnotation, []string{"true"}); err != nil {
			panic(err) // a flag name mistyped here: a programming error
		}
	}
}

// durationAnnotation marks a duration flag with the least value that means
// something (atLeast): "positive" or "non-negative". A value given below it
// is a usage error (badDuration), never taken silently: --redis-timeout 0
// failed as "Redis cannot be read: context deadline exceeded", --counter-poll
// 0 polled every 5 s, check --stale 0 judged no staleness at all.
const durationAnnotation = "mavtop/duration"

// atLeast marks the duration flags of fl named with rule ("positive" or
// "non-negative"; see durationAnnotation).
func atLeast(fl *pflag.FlagSet, rule string, names ...string) {
	for _, n := range names {
		if err := fl.SetAnnotation(n, durationAnnotation, []string{rule}); err != nil {
			panic(err) // a flag name mistyped here: a programming error
		}
	}
}

// badDuration is the usage error (exit 2; UNKNOWN for check) for the first
// duration flag marked by atLeast that the command line, the environment or
// mavtop.toml gave a value below its rule.
func badDuration(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		rule := f.Annotations[durationAnnotation]
		if err != nil || len(rule) == 0 || f.Value.Type() != "duration" || !given(cmd, f.Name) {
			return
		}
		d, perr := time.ParseDuration(f.Value.String())
		if perr != nil {
			return
		}
		leave := "leave it out for the default, " + f.DefValue
		if f.DefValue == "0s" {
			leave = "leave it out for none"
		}
		switch {
		case rule[0] == "positive" && d <= 0:
			err = exitf(2, "--%s %s: want a positive duration (%s)", f.Name, d, leave)
		case rule[0] == "non-negative" && d < 0:
			err = exitf(2, "--%s %s: want a duration of 0 or more (%s)", f.Name, d, leave)
		}
	})
	return err
}

// emptyGiven is the usage error (exit 2; UNKNOWN for check) for the first
// flag marked nonEmpty that the command line or the configuration file
// (settings) gave an empty value, naming it and what leaving it out means.
// `--redis ""` fell back to $REDIS_URL, or to the demo, and `--key-prefix ""`
// to {mavera}, without a word: a script's unset variable read a Redis, or a
// prefix, nobody named.
func emptyGiven(cmd *cobra.Command, settings []config.Setting) error {
	fromFile := map[string]string{}
	for _, s := range settings {
		if s.Source == config.FromFile && s.Key.Flag != "" && s.Value == "" {
			fromFile[s.Key.Flag] = s.Origin
		}
	}
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || len(f.Annotations[nonEmptyAnnotation]) == 0 || f.Value.String() != "" {
			return
		}
		where := "--" + f.Name + " ''"
		if !f.Changed {
			origin, ok := fromFile[f.Name]
			if !ok {
				return
			}
			where = "an empty value for --" + f.Name + " at " + origin
		}
		def := f.DefValue
		if def == "" && f.Name == "redis" {
			def = "$REDIS_URL"
		}
		leave := "leave it out"
		if def != "" {
			leave += " for the default, " + def
		}
		err = exitf(2, "%s: an empty value means nothing here; give one, or %s", where, leave)
	})
	return err
}
