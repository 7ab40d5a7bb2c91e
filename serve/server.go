// Package serve serves the dashboard over SSH (charmbracelet/wish): every
// connection gets its own Bubble Tea program, sized to its terminal and drawn
// with its own renderer, and all of them read the one feed hub the command
// started (one Redis subscription, whatever the number of viewers).
//
// Only public keys listed in an authorized_keys file get in; passwords and
// keyboard-interactive are not offered. Sessions are read-only unless the key is
// also listed in the launch keys; a read-only session's launcher refuses, so the
// refusal does not depend on the screen alone.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/activeterm"
	bm "github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/tui"
)

// DefaultIdleTimeout is how long a session may go without a keystroke.
const DefaultIdleTimeout = 30 * time.Minute

// DefaultFPS is each session's redraw cap: four frames a second keep numbers
// live while a viewer on a slow or metered link gets a fifth of the local
// dashboard's redraws (tui.DefaultFPS).
const DefaultFPS = 4

// ClockStep is how far a session's clock moves at a time: ages, countdowns
// and forecasts driven by time alone change at most every 5 s, so an idle
// screen sends nothing between steps; credits still show when they arrive.
// A session's charts are redrawn for new data at most as often (the
// dashboard's once a second): they move by the minute, and drawing them is
// the costliest part of a frame.
const ClockStep = 5 * time.Second

// ReadOnlyReason is what a session whose key is not in the launch keys sees in
// the estimator pane, and the error its launcher returns.
const ReadOnlyReason = "this SSH key may not launch jobs (not in --launch-keys)"

// Options configure a Server. Hub, Auth and HostKey are required.
type Options struct {
	// Hub is the feed every session reads (each joins it as a viewer).
	Hub *feed.Hub
	// Auth says which keys may connect and which may launch.
	Auth *Auth
	// HostKey is the server's host key (LoadOrCreateHostKey).
	HostKey gossh.Signer
	// Launcher launches estimator jobs for sessions whose key may; nil when no API
	// client is configured, NoLauncher then says why.
	Launcher   tui.Launcher
	NoLauncher string
	// APIStatus feeds the header's API status; may be nil.
	APIStatus func() tui.APIStatus
	// Lifecycle feeds the alerts pane the shared alert lifecycle; may be nil.
	Lifecycle func() tui.Lifecycle
	// IdleTimeout ends a session after this long without input (DefaultIdleTimeout;
	// negative: never). The dashboard redraws on its own, so output does not count.
	IdleTimeout time.Duration
	// Demo, DemoHint and Bell are passed to every dashboard.
	Demo     bool
	DemoHint string
	Bell     bool
	// FPS caps each session's redraws per second (DefaultFPS): the renderer
	// sends only the lines that changed, but every redraw of a changed line is
	// bytes on the viewer's link.
	FPS int
	// NoColor draws every session without colour, whatever its terminal says.
	NoColor bool
	// Theme is the background the colours are made for (tui.ThemeAuto: the
	// session's COLORFGBG when its client sends it, else what its terminal
	// answers to OSC 11 within BackgroundTimeout, else dark).
	Theme tui.Theme
	// Logger receives connects, disconnects, refusals and launches (slog.Default()).
	Logger *slog.Logger
	// Limits bound what peers may cost: authentication time, connections
	// authenticating at once, sessions in total and per key (zero: defaults).
	Limits Limits
	// Now is the clock (time.Now) of the dashboards and of the server's own times:
	// when a session started, how long it lasted, how long it went without input.
	// The idle check wakes on real timers and measures the quiet on Now.
	Now func() time.Time
}

// Session is one connected viewer, as Server.Sessions reports it.
type Session struct {
	// User is the SSH user name the client gave; Fingerprint is its key's SHA256
	// fingerprint; Remote is its address.
	User, Fingerprint, Remote string
	// Started is when the session began.
	Started time.Time
	// ReadOnly says why this session may not launch ("" when it may).
	ReadOnly string
	// Launcher is the launcher the session's dashboard was given (nil when no
	// API client is configured; a refusing one for a read-only key).
	Launcher tui.Launcher

	now       func() time.Time // the server's clock
	lastInput atomic.Int64     // unix nanoseconds, on now
	idle      atomic.Bool
	mu        sync.Mutex
	model     *tui.Model
	program   *tea.Program
	stopKill  func() bool // stops the kill on disconnect once the session is over
	bg        string
}

// Background is the palette the session got and why: "light (terminal)",
// "dark (default: no answer)", "dark (theme)"… ("" until its dashboard starts).
func (s *Session) Background() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bg
}

func (s *Session) logAttrs() []any {
	return []any{"user", s.User, "key", s.Fingerprint, "remote", s.Remote}
}

// Server is the SSH dashboard server.
type Server struct {
	opt Options
	log *slog.Logger
	srv *ssh.Server

	conns conns

	mu       sync.Mutex
	sessions map[*Session]struct{}
	// left gets a token whenever a session ends, for Shutdown to recount.
	left chan struct{}
}

type sessionKey struct{}

// New builds a server; Serve starts it.
func New(opt Options) (*Server, error) {
	switch {
	case opt.Hub == nil:
		return nil, errors.New("serve: no feed hub")
	case opt.Auth == nil:
		return nil, errors.New("serve: no authorized keys")
	case opt.HostKey == nil:
		return nil, errors.New("serve: no host key")
	}
	if opt.IdleTimeout == 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.FPS <= 0 {
		opt.FPS = DefaultFPS
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.Limits.fill()
	s := &Server{opt: opt, log: opt.Logger, sessions: map[*Session]struct{}{}, left: make(chan struct{}, 1),
		conns: conns{live: map[*liveConn]struct{}{}}}
	srv, err := wish.NewServer(
		// the host key first: without one wish would write id_ed25519 to the working directory
		func(srv *ssh.Server) error { srv.AddHostKey(opt.HostKey); return nil },
		wish.WithVersion("mavtop"),
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithMiddleware(
			// run last to first: track → activeterm → the dashboard
			bm.MiddlewareWithProgramHandler(s.program, termenv.Ascii),
			activeterm.Middleware(),
			s.track,
		),
	)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	// No password or keyboard-interactive handler: the server does not offer them.
	srv.PasswordHandler, srv.KeyboardInteractiveHandler = nil, nil
	srv.ConnCallback = s.admit
	srv.ConnectionFailedCallback = func(conn net.Conn, err error) {
		s.log.Debug("ssh handshake failed", "remote", conn.RemoteAddr().String(), "err", err)
	}
	// Dead connections still end: no bytes either way for twice the idle time.
	if opt.IdleTimeout > 0 {
		srv.IdleTimeout = 2 * opt.IdleTimeout
	}
	s.srv = srv
	return s, nil
}

// Serve accepts connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown ends every dashboard, waits for the sessions to finish (or ctx),
// then closes the listener and the connections.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, sess := range s.Sessions() {
		sess.quit()
	}
	for len(s.Sessions()) > 0 {
		select {
		case <-ctx.Done():
			// A dashboard that did not quit in time is killed, and its
			// connection closed: shutting down never waits on a viewer.
			for _, sess := range s.Sessions() {
				sess.kill()
			}
			_ = s.srv.Close()
			return ctx.Err()
		case <-s.left:
		}
	}
	return s.srv.Close()
}

// Close ends every connection at once.
func (s *Server) Close() error { return s.srv.Close() }

// Sessions returns the sessions connected now.
func (s *Server) Sessions() []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Session, 0, len(s.sessions))
	for sess := range s.sessions {
		out = append(out, sess)
	}
	return out
}

// authorize lets in the keys of the authorized keys file, and only them.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.opt.Auth.Authorized(key) {
		return true
	}
	s.log.Warn("ssh key refused", "user", cleanUser(ctx.User()), "key", gossh.FingerprintSHA256(key), "remote", ctx.RemoteAddr().String())
	return false
}

// track registers the session, logs it, runs the rest of the chain and cleans
// up: the dashboard's viewer leaves the hub when the session ends, however it ends.
func (s *Server) track(next ssh.Handler) ssh.Handler {
	return func(ss ssh.Session) {
		sess := &Session{User: cleanUser(ss.User()), Remote: ss.RemoteAddr().String(), Started: s.opt.Now(), now: s.opt.Now}
		if k := ss.PublicKey(); k != nil {
			sess.Fingerprint = gossh.FingerprintSHA256(k)
		}
		sess.lastInput.Store(sess.Started.UnixNano())
		switch {
		case s.opt.Launcher == nil:
			sess.ReadOnly = s.opt.NoLauncher
		case s.opt.Auth.MayLaunch(ss.PublicKey()):
			sess.Launcher = &loggingLauncher{inner: s.opt.Launcher, sess: sess, log: s.log}
		default:
			sess.ReadOnly = ReadOnlyReason
			sess.Launcher = &refusingLauncher{sess: sess, log: s.log, list: s.opt.Launcher}
		}
		ss.Context().SetValue(sessionKey{}, sess)
		pty, _, hasPty := ss.Pty()
		attrs := append(sess.logAttrs(), "term", pty.Term, "width", pty.Window.Width, "height", pty.Window.Height, "may_launch", sess.ReadOnly == "" && sess.Launcher != nil)
		if !hasPty {
			// not the command itself: it is whatever the client typed
			attrs = append(attrs, "pty", false, "command_given", ss.RawCommand() != "")
		}
		if why := s.register(sess); why != "" {
			s.log.Warn("ssh session refused", append(sess.logAttrs(), "reason", why)...)
			wish.Printf(ss, "mavtop: %s\n", why)
			_ = ss.Exit(1)
			return
		}
		s.log.Info("ssh session started", attrs...)
		defer func() {
			s.mu.Lock()
			delete(s.sessions, sess)
			s.mu.Unlock()
			select {
			case s.left <- struct{}{}:
			default: // a token is already waiting: Shutdown recounts once for both
			}
			sess.close()
			reason := "closed"
			if sess.idle.Load() {
				reason = "idle timeout"
			}
			s.log.Info("ssh session ended", append(sess.logAttrs(), "after", s.opt.Now().Sub(sess.Started).Round(time.Second).String(), "reason", reason)...)
		}()
		if !hasPty {
			port := "PORT"
			if _, p, err := net.SplitHostPort(ss.LocalAddr().String()); err == nil {
				port = p
			}
			wish.Printf(ss, "mavtop serves an interactive dashboard: connect with a terminal, e.g. ssh -t -p %s HOST\n", port)
			_ = ss.Exit(1)
			return
		}
		next(ss)
		sess.mu.Lock()
		if sess.stopKill != nil {
			sess.stopKill()
		}
		sess.mu.Unlock()
		if sess.idle.Load() {
			wish.Printf(ss, "\r\nmavtop: disconnected after %s without input\r\n", s.opt.IdleTimeout)
			_ = ss.Exit(0)
		}
	}
}

// program builds the session's dashboard: its own viewer of the hub, its own
// renderer (colour profile and background of the client's terminal).
func (s *Server) program(ss ssh.Session) *tea.Program {
	sess, _ := ss.Context().Value(sessionKey{}).(*Session)
	if sess == nil {
		return nil
	}
	in := newSessionInput(ss.Context(), ss)
	var ask func() (dark, answered bool)
	if !s.opt.NoColor {
		ask = func() (bool, bool) { return in.probe(ss, BackgroundTimeout) }
	}
	r, bg := sessionRenderer(ss, s.opt.Theme, ask)
	if s.opt.NoColor {
		r.SetColorProfile(termenv.Ascii)
	}
	sess.mu.Lock()
	sess.bg = bg
	sess.mu.Unlock()
	s.log.Debug("terminal background", append(sess.logAttrs(), "background", bg)...)
	m := tui.New(tui.Options{
		Source:      s.opt.Hub.JoinAsync(), // drawn at once, whatever the hub is folding
		Launcher:    sess.Launcher,
		Log:         s.log.With(sess.logAttrs()...),
		ReadOnly:    sess.ReadOnly,
		APIStatus:   s.opt.APIStatus,
		Lifecycle:   s.opt.Lifecycle,
		Renderer:    r,
		Now:         s.opt.Now,
		Demo:        s.opt.Demo,
		DemoHint:    s.opt.DemoHint,
		Bell:        s.opt.Bell,
		FPS:         s.opt.FPS,
		ClockStep:   ClockStep,
		ChartRedraw: ClockStep,
	})
	// Only the cells that changed go to the viewer: a frame where every row
	// changed a number costs the numbers, not the rows.
	out := newCellWriter(ss)
	filter := func(m tea.Model, msg tea.Msg) tea.Msg {
		msg = clampSize(m, msg)
		if _, ok := msg.(tea.WindowSizeMsg); ok {
			out.invalidate() // the terminal may have reflowed what it showed
		}
		return msg
	}
	p := tea.NewProgram(m,
		tea.WithInput(&inputReader{r: in, sess: sess}), tea.WithOutput(out),
		tea.WithAltScreen(), tea.WithMouseCellMotion(),
		tea.WithFilter(filter), tea.WithFPS(s.opt.FPS),
		// Signals are the server's, not one viewer's.
		tea.WithoutSignalHandler(),
	)
	sess.mu.Lock()
	sess.model, sess.program = &m, p
	// The connection gone, nobody is watching: kill the dashboard and its
	// frame loop at once, whatever it was doing (Quit waits for its turn).
	sess.stopKill = context.AfterFunc(ss.Context(), p.Kill)
	sess.mu.Unlock()
	if s.opt.IdleTimeout > 0 {
		go sess.watchIdle(ss.Context(), s.opt.IdleTimeout)
	}
	return p
}

// inputReader notes when the viewer last typed (only input counts as activity),
// and ends the dashboard when the client closes its side of the session: the
// connection may stay up for other channels, but nobody is watching this one.
type inputReader struct {
	r    io.Reader
	sess *Session
}

func (r *inputReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.sess.lastInput.Store(r.sess.now().UnixNano())
	}
	if err != nil {
		go r.sess.quit()
	}
	return n, err
}

// watchIdle quits the dashboard once no input came for timeout.
func (s *Session) watchIdle(ctx context.Context, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			quiet := s.now().Sub(time.Unix(0, s.lastInput.Load()))
			if quiet < timeout {
				t.Reset(timeout - quiet)
				continue
			}
			s.idle.Store(true)
			s.quit()
			return
		}
	}
}

// kill ends the dashboard without waiting for its event loop.
func (s *Session) kill() {
	s.mu.Lock()
	p := s.program
	s.mu.Unlock()
	if p != nil {
		p.Kill()
	}
}

func (s *Session) quit() {
	s.mu.Lock()
	p := s.program
	s.mu.Unlock()
	if p != nil {
		p.Quit()
	}
}

// close stops the dashboard's reads and leaves the hub.
func (s *Session) close() {
	s.mu.Lock()
	m := s.model
	s.model = nil
	s.mu.Unlock()
	if m != nil {
		m.Close()
	}
}

// sessionRenderer is a viewer's renderer: its colour profile from the
// client's TERM and COLORTERM (as wish's MakeRenderer finds it), its
// background from the theme. With auto, a client that sends COLORFGBG
// (SendEnv COLORFGBG) is believed; else ask (nil: do not) asks the terminal
// (OSC 11), waiting at most BackgroundTimeout: a terminal that does not
// answer gets the dark palette at once instead of a blank screen, and a late
// reply is taken out of its input. It returns the renderer and how the
// background was decided: "dark (theme)", "light (terminal)",
// "dark (COLORFGBG)", "dark (default: no answer)".
func sessionRenderer(ss ssh.Session, theme tui.Theme, ask func() (dark, answered bool)) (*lipgloss.Renderer, string) {
	pty, _, ok := ss.Pty()
	if !ok || pty.Term == "" || pty.Term == "dumb" {
		r := lipgloss.NewRenderer(ss, termenv.WithProfile(termenv.Ascii))
		r.SetHasDarkBackground(true)
		return r, "dark (no colours)"
	}
	env := append(ss.Environ(), "TERM="+pty.Term)
	r := lipgloss.NewRenderer(ss, termenv.WithEnvironment(sessionEnv(env)), termenv.WithUnsafe(), termenv.WithColorCache(true))
	dark, source := true, "default: no answer"
	switch {
	case theme != tui.ThemeAuto && theme != "":
		dark, source = theme != tui.ThemeLight, "theme"
	default:
		if d, known := darkFromCOLORFGBG(sessionEnv(env).Getenv("COLORFGBG")); known {
			dark, source = d, "COLORFGBG"
		} else if ask == nil || r.ColorProfile() == termenv.Ascii {
			source = "default: not asked"
		} else if d, answered := ask(); answered {
			dark, source = d, "terminal"
		}
	}
	r.SetHasDarkBackground(dark)
	word := "light"
	if dark {
		word = "dark"
	}
	return r, word + " (" + source + ")"
}

// darkFromCOLORFGBG reads rxvt's COLORFGBG ("15;0": white on black): the
// last field is the background's colour number, 0–6 and 8 being dark.
func darkFromCOLORFGBG(v string) (dark, known bool) {
	if v == "" {
		return false, false
	}
	f := strings.Split(v, ";")
	bg, err := strconv.Atoi(f[len(f)-1])
	if err != nil || bg < 0 || bg > 15 {
		return false, false
	}
	return bg <= 6 || bg == 8, true
}

// sessionEnv is a client's environment as termenv reads it.
type sessionEnv []string

func (e sessionEnv) Environ() []string { return e }

func (e sessionEnv) Getenv(k string) string {
	for i := len(e) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// cleanUser is an SSH user name as logs and screens show it: the client chose
// it, so it passes the sanitising rule and is cut to 64 bytes.
func cleanUser(u string) string { return model.Truncate(model.Sanitize(u), 64) }
