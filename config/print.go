package config

import (
	"fmt"
	"io"
	"strings"
)

// Print writes settings as a mavtop.toml, secrets redacted, each value followed
// by where it came from. filePath is the file that was read ("" for none) and
// wanted the file that would have been (the default path).
func Print(w io.Writer, settings []Setting, filePath, wanted string) error {
	var b strings.Builder
	b.WriteString("# mavtop configuration in effect (precedence: flag > env > file > default).\n")
	switch {
	case filePath != "":
		fmt.Fprintf(&b, "# file: %s\n", filePath)
	case wanted != "":
		fmt.Fprintf(&b, "# file: none (%s does not exist; it is optional)\n", wanted)
	}
	b.WriteString("# Secrets are redacted; this output is itself a valid mavtop.toml.\n")
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
		line := name + " = " + TOML(s.Key.Kind, s.Shown())
		if s.Key.EnvOnly {
			line = "# " + line
		}
		lines = append(lines, [2]string{line, from})
	}
	flush()
	_, err := io.WriteString(w, b.String())
	return err
}
