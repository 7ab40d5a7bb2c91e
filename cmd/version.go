package cmd

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// versionText says which mavtop this is, from the build information Go
// embeds: the module's version ("(devel)" for a build from a clone), the VCS
// revision and time when built from a checkout, the Go version, and the
// versions of the modules it was built with (-v: all of them).
func versionText(all bool) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "mavtop (no build information)\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mavtop %s\n", bi.Main.Version)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		dirty := ""
		if settings["vcs.modified"] == "true" {
			dirty = " (modified)"
		}
		fmt.Fprintf(&b, "revision %s%s %s\n", rev, dirty, settings["vcs.time"])
	}
	fmt.Fprintf(&b, "built with %s for %s/%s\n", bi.GoVersion, settings["GOOS"], settings["GOARCH"])
	key := map[string]bool{"github.com/charmbracelet/bubbletea": true, "github.com/redis/go-redis/v9": true,
		"github.com/charmbracelet/wish": true, "github.com/charmbracelet/lipgloss": true, "github.com/prometheus/client_golang": true}
	for _, d := range bi.Deps {
		if all || key[d.Path] {
			v := d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path + " " + d.Replace.Version
			}
			fmt.Fprintf(&b, "  %s %s\n", d.Path, v)
		}
	}
	return b.String()
}

func printVersion(w io.Writer, all bool) { fmt.Fprint(w, versionText(all)) }

// newVersionCmd is `mavtop version`: what --version prints, -v with every
// module.
func newVersionCmd() *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print mavtop's version, its Go version and the versions of its main modules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			printVersion(cmd.OutOrStdout(), all)
			return nil
		},
	}
	c.Flags().BoolVarP(&all, "verbose", "v", false, "list every module it was built with")
	return c
}
