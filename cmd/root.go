// Package cmd is mavtop's command line: one file per cobra command, each a
// newXxxCmd constructor that parses flags, calls the packages and prints. No
// domain rule lives here: levels, rows and verdicts come from model/ and
// estimator/, so every command and the dashboard agree.
package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	_ "time/tzdata" // billing-period time zones work on machines without a zoneinfo database

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"mavtop/model"
	"mavtop/tui"
)

// exitError carries a process exit code out of a command (monitoring-plugin style
// codes for `check`, 2 for bad input, 3 for "not affordable" in `estimate`).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitf returns an error that makes mavtop exit with code after printing the message.
func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

func newRootCmd() *cobra.Command {
	var dash dashboardFlags
	var cfg configState
	root := &cobra.Command{
		Use:   "mavtop",
		Short: "A terminal dashboard for Mavera API credit usage",
		Long: `mavtop follows the Redis stream of Mavera API usage events your applications
write and shows live per-workspace gauges, 402 refusals, burn rates, forecasts
and a pre-flight estimator. With no --redis and no REDIS_URL it starts a demo.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          newDashboardRunE(&dash),
	}
	dash.addFlags(root)
	root.Flags().IntVar(&dash.fps, "fps", tui.DefaultFPS, "most redraws per second (at most 120)")
	cfg.addFlags(root)
	var version bool
	root.Flags().BoolVarP(&version, "version", "v", false, "print the version and exit (mavtop version -v lists every module)")
	dashboard := root.RunE
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if version {
			printVersion(cmd.OutOrStdout(), false)
			return nil
		}
		return dashboard(cmd, args)
	}
	root.PersistentPreRunE = cfg.load // mavtop.toml and the environment fill in flags not given
	root.AddCommand(
		newSandboxCmd(),
		newEstimateCmd(),
		newEmitCmd(), newCheckCmd(), newBudgetCmd(),
		newServeCmd(), newWatchCmd(), newAlertsCmd(),
		newProxyCmd(),
		newVersionCmd(),
	)
	root.AddCommand(newConfigCmd(root, &cfg)) // last: it takes the others' flags
	return root
}

// quietRedis drops go-redis's own log lines: they would scribble over the
// dashboard, and every Redis error already reaches the screen or the exit code.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// Execute runs mavtop with os.Args and returns the process exit status: 0, the
// code a command chose (check's monitoring-plugin codes, estimate's 3), or 2 for
// a flag or argument mistake. The error, if any, is printed to stderr.
func Execute() int {
	redis.SetLogger(quietRedis{})
	return run(newRootCmd(), os.Args[1:], os.Stderr)
}

// run executes root with args and returns the exit status, printing the error
// to stderr. A monitoring command (check) that fails before it could report
// (a usage or configuration error, Redis unreadable) exits 3, UNKNOWN, with its
// status line on its stdout: a monitor reads 2 as CRITICAL and stdout only.
func run(root *cobra.Command, args []string, stderr io.Writer) int {
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	code := 2 // cobra's own errors are flag and argument mistakes
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	msg := oneLine(err)
	switch {
	case cmd != nil && cmd.Annotations[monitoringAnnotation] != "" && !errors.Is(err, errSilent):
		code = checkUnknown
		reportUnknown(cmd.OutOrStdout(), wantsJSON(args), msg)
	case cmd != nil && msg != "" && askedJSON(cmd, args):
		// --json's reader gets one object on every path: an error printed
		// nothing on stdout, and `jq` read an empty input as success
		reportError(cmd.OutOrStdout(), code, msg)
	}
	if msg != "" {
		fmt.Fprintln(stderr, "mavtop:", msg)
	}
	return code
}

// askedJSON reports whether cmd has a --json flag and it was asked for, on
// the command line (read raw: a usage error stops flag parsing before --json
// may be seen) or parsed.
func askedJSON(cmd *cobra.Command, args []string) bool {
	f := cmd.Flags().Lookup("json")
	if f == nil {
		return false
	}
	return wantsJSON(args) || (f.Changed && f.Value.String() == "true")
}

// reportError prints a failed command's one --json object: status "error",
// its exit code and the reason, the fields check's UNKNOWN object has
// (reportUnknown), so a script reads every command's --json one way. An
// error printed after the command's own object (estimate's exit 3: the
// verdict said it) has no message and gets none.
func reportError(w io.Writer, code int, msg string) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"status": "error", "code": code, "reason": model.Sanitize(msg)})
}

// oneLine is err's message on one line: the parts of a joined error (one per
// line, errors.Join) separated by "; ", runs of blanks cut to one, so that a
// log line, a monitor's status line and journalctl read one error as one line.
func oneLine(err error) string {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}
