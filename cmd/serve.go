package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"
	gossh "golang.org/x/crypto/ssh"

	"mavtop/metrics"
	"mavtop/serve"
	"mavtop/tui"
)

// serveFlags are the SSH server's own flags (the dashboard's come from dashboardFlags).
type serveFlags struct {
	addr           string
	hostKey        string
	authorizedKeys string
	launchKeys     string
	idle           time.Duration
	limits         serve.Limits
}

func newServeCmd() *cobra.Command {
	var dash dashboardFlags
	var sf serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the dashboard over SSH to every authorized public key",
		Long: `Serve the dashboard over SSH: every "ssh -p 2222 host" gets its own dashboard,
sized to its terminal, and all of them read one subscription to the stream
(one Redis connection, whatever the number of viewers). With no --redis and no
REDIS_URL it serves the demo.

Only public keys listed in --authorized-keys get in (OpenSSH format); passwords
are refused. Sessions are read-only unless the key is also in --launch-keys
(and MAVERA_API_KEY is set). SIGHUP re-reads both key files. Connections,
disconnections, refused keys and every launch are logged to stderr.`,
		Example: `  ssh-keygen -t ed25519 -f ~/.ssh/mavtop_viewer -N ''
  cat ~/.ssh/mavtop_viewer.pub >> ~/.ssh/authorized_keys
  mavtop serve --ssh 127.0.0.1:2222 --authorized-keys ~/.ssh/authorized_keys --metrics 127.0.0.1:9464
  ssh -p 2222 -i ~/.ssh/mavtop_viewer localhost`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, &dash, &sf) },
	}
	dash.addFlags(cmd)
	fl := cmd.Flags()
	fl.IntVar(&dash.fps, "fps", serve.DefaultFPS, "most redraws per second of each session (at most 120): a redraw is bytes on every viewer's link")
	fl.StringVar(&sf.addr, "ssh", "127.0.0.1:2222", "SSH `address` to listen on (\":2222\" for every interface)")
	fl.StringVar(&sf.hostKey, "host-key", defaultHostKey(os.Getenv), "host key `file`, an Ed25519 key generated there on first start and kept")
	fl.StringVar(&sf.authorizedKeys, "authorized-keys", "~/.ssh/authorized_keys", "OpenSSH authorized_keys `file`: the public keys that may connect")
	nonEmpty(fl, "ssh", "host-key", "authorized-keys")
	fl.StringVar(&sf.launchKeys, "launch-keys", "", "authorized_keys `file` of the keys that may also launch estimator jobs (default: none may)")
	fl.DurationVar(&sf.idle, "idle-timeout", serve.DefaultIdleTimeout, "end a session after this long without a keystroke (0: never)")
	fl.DurationVar(&sf.limits.AuthTimeout, "auth-timeout", serve.DefaultAuthTimeout, "close a connection that has not authenticated within this long")
	fl.IntVar(&sf.limits.MaxStartups, "max-startups", serve.DefaultMaxStartups, "most connections authenticating at once; past it the oldest is closed")
	fl.IntVar(&sf.limits.MaxSessions, "max-sessions", serve.DefaultMaxSessions, "most sessions at once, over every key")
	fl.IntVar(&sf.limits.MaxSessionsPerKey, "max-sessions-per-key", serve.DefaultMaxSessionsPerKey, "most sessions of one public key at once")
	return cmd
}

// defaultHostKey is $XDG_DATA_HOME/mavtop/ssh_host_ed25519, else under ~/.local/share.
func defaultHostKey(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mavtop", "ssh_host_ed25519")
	}
	return "~/.local/share/mavtop/ssh_host_ed25519"
}

// expandHome turns a leading ~/ into the home directory.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

func runServe(cmd *cobra.Command, dash *dashboardFlags, sf *serveFlags) error {
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	if dash.log.file != "" {
		l, closeLog, err := dash.log.openLog()
		if err != nil {
			return err
		}
		defer closeLog()
		log = l
	}
	dash.logger = log
	if l := sf.limits; l.AuthTimeout <= 0 || l.MaxStartups <= 0 || l.MaxSessions <= 0 || l.MaxSessionsPerKey <= 0 {
		return exitf(2, "--auth-timeout, --max-startups, --max-sessions and --max-sessions-per-key must be positive")
	}
	var paths [3]string
	for i, p := range []string{sf.authorizedKeys, sf.launchKeys, sf.hostKey} {
		var err error
		if paths[i], err = expandHome(p); err != nil {
			return exitf(2, "%v", err)
		}
	}
	// Everything that can be wrong with the files or the ports fails here,
	// before the demo or a Redis connection starts.
	auth, warnings, err := serve.LoadAuth(paths[0], paths[1])
	for _, w := range warnings {
		log.Warn(w)
	}
	if err != nil {
		return exitf(2, "%v", err)
	}
	hostKey, created, err := serve.LoadOrCreateHostKey(paths[2])
	if err != nil {
		return exitf(2, "%v", err)
	}
	if created {
		log.Info("generated a new host key", "path", paths[2], "fingerprint", gossh.FingerprintSHA256(hostKey.PublicKey()))
	}
	ln, err := net.Listen("tcp", sf.addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return exitf(1, "ssh: %s is already in use: choose another with --ssh", sf.addr)
		}
		return exitf(1, "ssh: %v", err)
	}
	defer ln.Close()
	ml, err := dash.listenMetrics(cmd.ErrOrStderr())
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dash.alertLog, dash.logger = log, log
	src, err := dash.open(ctx)
	if err != nil {
		if ml != nil {
			ml.Close()
		}
		return err
	}
	defer src.close()
	idle := sf.idle
	if idle == 0 {
		idle = -1 // never
	}
	theme, err := tui.ParseTheme(dash.theme)
	if err != nil {
		return exitf(2, "%v", err)
	}
	srv, err := serve.New(serve.Options{
		Hub: src.hub, Auth: auth, HostKey: hostKey,
		Launcher: src.api.launcher(), NoLauncher: src.readOnly(), APIStatus: src.api.status(),
		Lifecycle:   lifecycleOf(src.watcher),
		IdleTimeout: idle,
		Limits:      sf.limits,
		Demo:        src.demo != nil,
		DemoHint:    "Demo mode: simulated applications call a local API sandbox. To watch your own: mavtop serve --redis redis://host:6379/0",
		Bell:        dash.bell, NoColor: dash.noColor, Theme: theme, FPS: dash.fps,
		Logger: log,
	})
	if err != nil {
		return exitf(2, "%v", err)
	}
	if err := dash.serveMetrics(ctx, ml, src, func() int { return len(srv.Sessions()) }); err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	nAuth, nLaunch := auth.Counts()
	attrs := []any{"addr", ln.Addr().String(), "host_key", gossh.FingerprintSHA256(hostKey.PublicKey()),
		"authorized_keys", nAuth, "launch_keys", nLaunch, "demo", src.demo != nil, "launching", src.api.launcher() != nil}
	if ml != nil {
		attrs = append(attrs, "metrics", "http://"+ml.Addr().String()+"/metrics")
	}
	log.Info("mavtop serve listening", attrs...)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			warnings, err := auth.Reload()
			for _, w := range warnings {
				log.Warn(w)
			}
			if err != nil {
				log.Error("reload of the key files failed; the keys in force stay", "err", err)
				continue
			}
			nAuth, nLaunch := auth.Counts()
			log.Info("key files reloaded", "authorized_keys", nAuth, "launch_keys", nLaunch)
		case err := <-served:
			if err != nil {
				return exitf(1, "ssh: %v", err)
			}
			return nil
		case <-ctx.Done():
			log.Info("mavtop serve shutting down", "sessions", len(srv.Sessions()))
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			<-served
			return nil
		}
	}
}

// listenMetrics opens --metrics before anything else starts, so a taken port
// fails at once; nil when --metrics is not set.
func (f *dashboardFlags) listenMetrics(warn io.Writer) (net.Listener, error) {
	if f.metrics == "" {
		return nil, nil
	}
	if f.metricsMaxProjects <= 0 {
		return nil, exitf(2, "--metrics-max-projects must be positive, got %d", f.metricsMaxProjects)
	}
	if f.metricsMaxWorkspaces <= 0 {
		return nil, exitf(2, "--metrics-max-workspaces must be positive, got %d", f.metricsMaxWorkspaces)
	}
	ln, err := metrics.Listen(f.metrics)
	if err != nil {
		return nil, exitf(1, "%v", err)
	}
	if !metrics.IsLoopback(ln.Addr()) {
		fmt.Fprintf(warn, "mavtop: warning: metrics on %s, not a loopback address: anyone who can reach it sees workspace names and spend\n", ln.Addr())
	}
	return ln, nil
}

// serveMetrics serves Prometheus metrics of src's hub on ln until ctx ends
// (nothing when ln is nil). sessions, when set, is the SSH session count.
func (f *dashboardFlags) serveMetrics(ctx context.Context, ln net.Listener, src *source, sessions func() int) error {
	if ln == nil {
		return nil
	}
	opt := metrics.Options{MaxProjects: f.metricsMaxProjects, MaxWorkspaces: f.metricsMaxWorkspaces, Sessions: sessions}
	if src.watcher != nil {
		opt.Alerts = src.watcher
	}
	col := metrics.New(src.hub, opt)
	reg, err := metrics.NewRegistry(col)
	if err != nil {
		ln.Close()
		return err
	}
	go func() { _ = col.Run(ctx) }()
	go func() { _ = metrics.Serve(ctx, ln, metrics.Handler(reg)) }()
	return nil
}

// renderer is the local dashboard's renderer: the default one, or one without
// colour for --no-color (NO_COLOR in the environment is honoured either way),
// with its background set by --theme (auto: lipgloss asks the terminal).
// Without colour the background cannot matter, so it is set rather than
// asked: a new renderer asks the terminal (OSC 11) and waits up to 5 s
// (termenv.OSCTimeout) for an answer a terminal that does not answer never
// sends, on top of the 5 s Bubble Tea's own start-up waits there (10.3 s
// blank in all on a pty that does not answer).
func (f *dashboardFlags) renderer() (*lipgloss.Renderer, error) {
	theme, err := tui.ParseTheme(f.theme)
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	r := lipgloss.DefaultRenderer()
	if f.noColor {
		r = lipgloss.NewRenderer(os.Stdout)
		r.SetColorProfile(termenv.Ascii)
		r.SetHasDarkBackground(true)
	}
	theme.Apply(r)
	return r, nil
}
