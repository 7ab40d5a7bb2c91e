package config

import (
	"fmt"
	"io"
	"strings"
)

// Print writes settings as a mavtop.toml, secrets redacted, each value followed
// by where it came from. filePath is the file that was read ("" for none) and
// wanted the file that would have been (the default path).
//
// Saved as a mavtop.toml, the output sets exactly what was given (by a flag,
// the environment or a file): a default value, a redacted secret and an
// environment-only key are printed commented out. A default written out would
// count as given when loaded back (alerts.warn and alerts.crit, given, replace
// every workspace's own thresholds in check), and a redacted secret would load
// as a wrong password.
func Print(w io.Writer, settings []Setting, filePath, wanted string) error {
	var b strings.Builder
	b.WriteString("# mavtop configuration in effect (precedence: flag > env > file > default).\n")
	switch {
	case filePath != "":
		fmt.Fprintf(&b, "# file: %s\n", filePath)
	case wanted != "":
		fmt.Fprintf(&b, "# file: none (%s does not exist; it is optional)\n", wanted)
	}
	b.WriteString("# Saved as a mavtop.toml it sets what was given: defaults and redacted secrets are commented out.\n")
	section := ""
	var lines [][2]string
	flush := func() {
		width := 0
		for _, l := range lines {
			width = max(width, len([]rune(l[0])))
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "%-*s  # %s\n", width, l[0], l[1])
		}
		lines = lines[:0]
	}
	for _, s := range settings {
		sec, name, _ := strings.Cut(s.Key.Name, ".")
		if sec != section {
			flush()
			fmt.Fprintf(&b, "\n[%s]\n", sec)
			section = sec
		}
		from := string(s.Source)
		if s.Origin != "" {
			from += " " + s.Origin
		}
		if s.Key.Help != "" {
			from += " · " + s.Key.Help
		}
		shown := s.Shown()
		line := name + " = " + TOML(s.Key.Kind, shown)
		if shown != s.Value && !s.Key.EnvOnly {
			from += " (redacted: set it yourself)"
		}
		if s.Key.EnvOnly || s.Source == FromDefault || shown != s.Value {
			line = "# " + line
		}
		lines = append(lines, [2]string{line, from})
	}
	flush()
	_, err := io.WriteString(w, b.String())
	return err
}
