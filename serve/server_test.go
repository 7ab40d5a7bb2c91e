package serve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"mavtop/estimator"
	"mavtop/feed"
	"mavtop/model"
	"mavtop/tui"
)

const waitLong = 15 * time.Second

// sessionOf waits for the server's session of key.
func (f *fixture) sessionOf(t *testing.T, key gossh.Signer) *Session {
	t.Helper()
	fp := gossh.FingerprintSHA256(key.PublicKey())
	var found *Session
	waitFor(t, waitLong, "the session of "+fp, func() bool {
		for _, s := range f.srv.Sessions() {
			if s.Fingerprint == fp {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

func TestAuthorizedKeySeesGaugesSizedToItsTerminal(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	c, err := f.dial("alice", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatalf("authorized key refused: %v", err)
	}
	tm := openTerm(t, c, 100, 30)
	tm.waitScreen(waitLong, "acme-prod", "% used", "1,234")
	if n := f.hub.Viewers(); n != 1 {
		t.Errorf("hub viewers = %d, want 1", n)
	}

	// Window changes are followed: too small, then back.
	if err := tm.s.WindowChange(20, 58); err != nil {
		t.Fatal(err)
	}
	tm.waitScreen(waitLong, "this terminal is 58×20")
	if err := tm.s.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	mark := len(tm.screen())
	waitFor(t, waitLong, "the gauges redrawn at 100×30", func() bool {
		return strings.Contains(tm.screen()[mark:], "acme-prod")
	})

	log := f.log.String()
	fp := gossh.FingerprintSHA256(f.reader.PublicKey())
	for _, want := range []string{"ssh session started", "user=alice", "key=" + fp, "remote=127.0.0.1:", "may_launch=false"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestUnknownKeyPasswordAndKeyboardInteractiveAreRefused(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	stranger := newKey(t)
	if c, err := f.dial("mallory", gossh.PublicKeys(stranger)); err == nil {
		c.Close()
		t.Fatal("an unknown key got in")
	}
	if c, err := f.dial("mallory", gossh.Password("hunter2")); err == nil {
		c.Close()
		t.Fatal("a password got in")
	}
	asked := false
	ki := gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
		asked = true
		return []string{"hunter2"}, nil
	})
	if c, err := f.dial("mallory", ki); err == nil {
		c.Close()
		t.Fatal("keyboard-interactive got in")
	}
	if asked {
		t.Error("the server offered keyboard-interactive")
	}
	log := f.log.String()
	if !strings.Contains(log, "ssh key refused") || !strings.Contains(log, gossh.FingerprintSHA256(stranger.PublicKey())) {
		t.Errorf("the refused key is not logged:\n%s", log)
	}
	if strings.Contains(log, "hunter2") {
		t.Errorf("a password reached the log:\n%s", log)
	}
	if n := len(f.srv.Sessions()); n != 0 {
		t.Errorf("%d sessions after refusals", n)
	}
}

func testJob() tui.Job {
	q, _ := estimator.Estimate(estimator.Chat, estimator.Params{})
	return tui.Job{Op: estimator.Chat, Workspace: "acme-prod", Quote: q}
}

func TestReadOnlyKeyCannotLaunch(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	c, err := f.dial("bob", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 100, 30)
	tm.waitScreen(waitLong, "acme-prod")
	sess := f.sessionOf(t, f.reader)
	if sess.ReadOnly != ReadOnlyReason {
		t.Errorf("ReadOnly = %q", sess.ReadOnly)
	}
	// The launch path itself refuses, whatever the screen does.
	_, err = sess.Launcher.Launch(context.Background(), testJob(), func(string) {})
	var ro *ReadOnlyError
	if !errors.As(err, &ro) || err.Error() != ReadOnlyReason {
		t.Fatalf("read-only launch: err = %v, want the refusal", err)
	}
	if err := sess.Launcher.Queue(context.Background(), testJob(), nil); !errors.As(err, &ro) {
		t.Errorf("read-only queue: err = %v", err)
	}
	// And the screen says why: estimator pane, then the launch key, which
	// fails at once instead of asking for confirmation.
	tm.send("e")
	tm.waitScreen(waitLong, "launch disabled: "+ReadOnlyReason)
	mark := len(tm.screen())
	tm.send("\r")
	tm.send("y")
	tm.send("\x1b") // esc: back to the dashboard, drawn once the keys before it were handled
	waitFor(t, waitLong, "the dashboard again", func() bool {
		return strings.Contains(tm.screen()[mark:], "402 refusals")
	})
	if strings.Contains(tm.screen()[mark:], "y confirm") {
		t.Error("a read-only key was asked to confirm a launch")
	}
	if jobs := f.launcher.Jobs(); len(jobs) != 0 {
		t.Errorf("the real launcher ran %d jobs for a read-only key", len(jobs))
	}
	if log := f.log.String(); !strings.Contains(log, "launch refused: read-only key") {
		t.Errorf("the refused launch is not logged:\n%s", log)
	}
}

func TestLaunchKeyCanLaunchAndIsLogged(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	c, err := f.dial("carol", gossh.PublicKeys(f.admin))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 100, 30)
	tm.waitScreen(waitLong, "acme-prod")
	sess := f.sessionOf(t, f.admin)
	if sess.ReadOnly != "" {
		t.Fatalf("a launch key is read-only: %q", sess.ReadOnly)
	}
	res, err := sess.Launcher.Launch(context.Background(), testJob(), func(string) {})
	if err != nil || res.JobID != "job-1" {
		t.Fatalf("launch: %+v, %v", res, err)
	}
	if n := len(f.launcher.Jobs()); n != 1 {
		t.Fatalf("launcher ran %d jobs, want 1", n)
	}
	// From the keyboard: estimator pane, launch, confirm.
	tm.send("e")
	tm.waitScreen(waitLong, "enter launch")
	tm.send("\r")
	tm.waitScreen(waitLong, "y confirm")
	tm.send("y")
	waitFor(t, waitLong, "a launch from the keyboard", func() bool { return len(f.launcher.Jobs()) == 2 })
	job := f.launcher.Jobs()[1]
	if job.Workspace != "acme-prod" {
		t.Errorf("launched in %q", job.Workspace)
	}
	// the launch is logged done after the launcher has it: wait for the line
	waitFor(t, waitLong, "the launch logged done", func() bool { return strings.Contains(f.log.String(), "msg=\"launch done\"") })
	log := f.log.String()
	for _, want := range []string{"msg=launch ", "user=carol", "key=" + gossh.FingerprintSHA256(f.admin.PublicKey()), "workspace=acme-prod", "operation=" + string(job.Op), "estimate=", "msg=\"launch done\""} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestNoAPIClientMeansNobodyLaunches(t *testing.T) {
	f := startFixture(t, fixtureOpts{noLaunc: true})
	c, err := f.dial("carol", gossh.PublicKeys(f.admin))
	if err != nil {
		t.Fatal(err)
	}
	openTerm(t, c, 100, 30).waitScreen(waitLong, "acme-prod")
	sess := f.sessionOf(t, f.admin)
	if sess.Launcher != nil || sess.ReadOnly != "set MAVERA_API_KEY to launch jobs" {
		t.Errorf("launcher %v, read-only %q", sess.Launcher, sess.ReadOnly)
	}
}

func TestViewersLeaveTheHubWhenSessionsEnd(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	var terms []*term
	for range 3 {
		c, err := f.dial("dave", gossh.PublicKeys(f.reader))
		if err != nil {
			t.Fatal(err)
		}
		tm := openTerm(t, c, 80, 24)
		terms = append(terms, tm)
	}
	for _, tm := range terms {
		tm.waitScreen(waitLong, "acme-prod")
	}
	if n := f.hub.Viewers(); n != 3 {
		t.Fatalf("viewers = %d, want 3", n)
	}
	terms[0].send("q") // quit from the dashboard
	terms[1].c.Close() // drop the connection
	waitFor(t, waitLong, "two viewers gone", func() bool { return f.hub.Viewers() == 1 })
	waitFor(t, waitLong, "the quitting session closed", terms[0].closed)
	terms[2].s.Close()
	waitFor(t, waitLong, "every viewer gone", func() bool { return f.hub.Viewers() == 0 && len(f.srv.Sessions()) == 0 })
	// a session leaves the server's set before its end is logged (the
	// handler's deferred close): read the log once the third is written,
	// not at once (CI read it between the two, 2 of 3)
	waitFor(t, waitLong, "3 disconnects logged", func() bool { return strings.Count(f.log.String(), "ssh session ended") >= 3 })
	if log := f.log.String(); strings.Count(log, "ssh session ended") != 3 {
		t.Errorf("want 3 disconnects logged:\n%s", log)
	}
}

func TestSessionWithoutPTYGetsAMessage(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	c, err := f.dial("erin", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.CombinedOutput("uptime")
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Errorf("exit: %v", err)
	}
	if !strings.Contains(string(out), "connect with a terminal") {
		t.Errorf("output %q", out)
	}
	if n := f.hub.Viewers(); n != 0 {
		t.Errorf("a non-PTY session joined the hub: %d viewers", n)
	}
}

func TestIdleSessionsTimeOutButTypingKeepsThemOpen(t *testing.T) {
	f := startFixture(t, fixtureOpts{idle: 600 * time.Millisecond})
	c1, err := f.dial("idle", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	idle := openTerm(t, c1, 80, 24)
	c2, err := f.dial("busy", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	busy := openTerm(t, c2, 80, 24)
	// busy types from its first moment (its first frame may take longer than
	// the idle timeout under -race on a loaded machine) until idle has ended
	// and busy has lived well past the timeout itself
	stop := time.Now().Add(1500 * time.Millisecond)
	deadline := time.Now().Add(waitLong)
	for (time.Now().Before(stop) || !idle.closed()) && time.Now().Before(deadline) && !busy.closed() {
		busy.send("j") // a key that moves the selection
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(t, waitLong, "the idle session to end", idle.closed)
	busy.waitScreen(waitLong, "acme-prod")
	if !strings.Contains(idle.screen(), "disconnected after 600ms without input") {
		t.Errorf("idle session ended without saying why:\n%s", tail(idle.screen(), 500))
	}
	if busy.closed() {
		t.Error("a session with input timed out")
	}
	// the server logs the end after it closed the session (the handler's
	// deferred close): the client can see it closed first
	waitFor(t, waitLong, "the idle disconnect logged", func() bool { return strings.Contains(f.log.String(), "reason=\"idle timeout\"") })
	busy.s.Close()
	waitFor(t, waitLong, "every viewer gone", func() bool { return f.hub.Viewers() == 0 })
}

func TestReloadPicksUpNewKeys(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	newcomer := newKey(t)
	if c, err := f.dial("fred", gossh.PublicKeys(newcomer)); err == nil {
		c.Close()
		t.Fatal("unknown key got in")
	}
	if err := os.WriteFile(f.auth.authorizedPath, append(gossh.MarshalAuthorizedKey(f.reader.PublicKey()), gossh.MarshalAuthorizedKey(newcomer.PublicKey())...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.Reload(); err != nil {
		t.Fatal(err)
	}
	c, err := f.dial("fred", gossh.PublicKeys(newcomer))
	if err != nil {
		t.Fatalf("reloaded key refused: %v", err)
	}
	c.Close()
	if c, err := f.dial("carol", gossh.PublicKeys(f.admin)); err == nil {
		c.Close()
		t.Error("a key removed from the file still gets in after reload")
	}
	// A broken file keeps the keys in force.
	if err := os.Remove(f.auth.authorizedPath); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.Reload(); err == nil {
		t.Error("reload of a missing file did not fail")
	}
	if c, err := f.dial("fred", gossh.PublicKeys(newcomer)); err != nil {
		t.Errorf("a failed reload dropped the keys: %v", err)
	} else {
		c.Close()
	}
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadAuth(filepath.Join(dir, "missing"), ""); err == nil || !strings.Contains(err.Error(), "--authorized-keys") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := LoadAuth("", ""); err == nil {
		t.Error("no file at all was accepted")
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody\n\n"), 0o600)
	if _, _, err := LoadAuth(empty, ""); err == nil || !strings.Contains(err.Error(), "no usable public key") {
		t.Errorf("empty file: %v", err)
	}
	k1, k2, k3 := newKey(t), newKey(t), newKey(t)
	mixed := filepath.Join(dir, "mixed")
	content := string(gossh.MarshalAuthorizedKey(k1.PublicKey())) +
		"not a key at all\n" +
		`command="/usr/bin/backup",no-pty ` + string(gossh.MarshalAuthorizedKey(k2.PublicKey())) +
		"  " + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k3.PublicKey()))) + " ops@example  \n"
	os.WriteFile(mixed, []byte(content), 0o600)
	a, warnings, err := LoadAuth(mixed, "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Authorized(k1.PublicKey()) || !a.Authorized(k3.PublicKey()) {
		t.Error("plain keys not loaded")
	}
	if a.Authorized(k2.PublicKey()) {
		t.Error("a key restricted by options was let in without them")
	}
	if a.MayLaunch(k1.PublicKey()) {
		t.Error("launch allowed without launch keys")
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "mixed:2") || !strings.Contains(warnings[1], "mixed:3") || !strings.Contains(warnings[1], "command=") {
		t.Errorf("warnings: %q", warnings)
	}
}

func TestHostKeyIsGeneratedOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "share", "mavtop")
	path := filepath.Join(dir, "ssh_host_ed25519")
	s1, created, err := LoadOrCreateHostKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created %v, %v", created, err)
	}
	s2, created, err := LoadOrCreateHostKey(path)
	if err != nil || created {
		t.Fatalf("second start: created %v, %v", created, err)
	}
	if gossh.FingerprintSHA256(s1.PublicKey()) != gossh.FingerprintSHA256(s2.PublicKey()) {
		t.Error("the host key changed between starts")
	}
	if s1.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Errorf("host key type %s", s1.PublicKey().Type())
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", p, got, want)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable host key: %v", err)
	}
}

func TestShutdownEndsLiveSessions(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	c, err := f.dial("gina", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 80, 24)
	tm.waitScreen(waitLong, "acme-prod")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a live session: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	waitFor(t, waitLong, "the client to see the end", tm.closed)
	if n := f.hub.Viewers(); n != 0 {
		t.Errorf("%d viewers after shutdown", n)
	}
}

// The server reads session times on its injected clock: when a session started
// and how long it lasted, as Sessions and the log report them.
func TestSessionTimesFollowTheInjectedClock(t *testing.T) {
	start := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	clock := &manualClock{t: start}
	f := startFixture(t, fixtureOpts{now: clock.Now})
	c, err := f.dial("alice", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 100, 30)
	tm.waitScreen(waitLong, "acme-prod")
	if sess := f.sessionOf(t, f.reader); !sess.Started.Equal(start) {
		t.Fatalf("session started at %v, want the injected %v", sess.Started, start)
	}
	clock.add(90 * time.Second)
	tm.s.Close()
	waitFor(t, waitLong, "the session to end", func() bool { return len(f.srv.Sessions()) == 0 })
	waitFor(t, waitLong, "the end logged", func() bool { return strings.Contains(f.log.String(), "ssh session ended") })
	if log := f.log.String(); !strings.Contains(log, "after=1m30s") {
		t.Errorf("the session's length is not the injected clock's 1m30s:\n%s", log)
	}
}

// TestASessionIsDrawnWhileTheHubIsBusy: the hub holds its lock while it folds
// a message (the start's used_by, a page of the hour read back: seconds at
// 100k workspaces on a loaded machine) or while a reader holds it. A session
// starting then waited in Hub.Join and drew nothing (the hunt's second
// viewer: 10 bytes, its terminal queries, in its first 10 s). Now it draws
// its frame at once, connecting, and the gauges once the hub is free. The
// hub's lock is held here by a reader that waits to be released.
func TestASessionIsDrawnWhileTheHubIsBusy(t *testing.T) {
	f := startFixture(t, fixtureOpts{})
	waitFor(t, waitLong, "the hub's ledger", func() bool {
		seeded := false
		f.hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) { seeded = l != nil && l.Len() > 0 })
		return seeded
	})
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	go f.hub.Read(func(*model.Ledger, *feed.ConnMsg, *feed.StatsMsg) { close(held); <-release })
	<-held
	t.Cleanup(free) // first: the fixture's own cleanup needs the hub

	c, err := f.dial("erin", gossh.PublicKeys(f.reader))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 100, 30)
	tm.waitScreen(waitLong, "connecting", "? help")
	if strings.Contains(tm.screen(), "acme-prod") {
		t.Fatal("the gauges came while the hub was locked")
	}
	free()
	tm.waitScreen(waitLong, "acme-prod", "1,234")
	waitFor(t, waitLong, "one viewer", func() bool { return f.hub.Viewers() == 1 })
}
