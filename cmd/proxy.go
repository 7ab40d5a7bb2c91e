package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"mavtop/client"
	"mavtop/client/sandbox"
	"mavtop/feed"
	"mavtop/proxy"
)

// proxyFlags are `mavtop proxy`'s own flags.
type proxyFlags struct {
	listen          string
	upstream        string
	workspace       string
	keys            string
	noPreflight     bool
	maxBody         int64
	upstreamTimeout time.Duration
	idleTimeout     time.Duration
	drainTimeout    time.Duration
	budgetCache     time.Duration
	jobPoll         time.Duration
	trackQueue      int
}

func newProxyCmd() *cobra.Command {
	var rf redisFlags
	var pf proxyFlags
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Track, pre-flight and budget every application's API calls without changing its code",
		Long: `Run a reverse proxy in front of the Mavera API. Applications set their base URL to
http://HOST:8787/api/v1 (the upstream's paths) and change nothing else: every request
is forwarded with its own Authorization, every answer comes back unchanged, and each
call's usage.credits_used (or credits_charged; for a stream, from its final event) is
written to the usage stream the dashboard reads, through the exactly-once publisher.

Attribution: the body's workspace_id, else the X-Mavtop-Workspace header (or
X-Mavera-Workspace), else --workspace; the project from X-Mavtop-Project. A proxy
token's workspace (and project, if given) wins over headers; a body naming another
workspace is refused (403). With --keys, applications hold a proxy token instead of the
API key: each line of the file is "TOKEN API_KEY WORKSPACE [PROJECT]" (# comments);
an unknown token gets 401; SIGHUP re-reads the file.

Pre-flight: POST /focus-groups, /video-analyses, /personas, /brand-voices, /mave/chat
and /responses are priced with the estimator (a video's length from the
X-Mavtop-Video-Seconds header, else the dearest band; Mave at its dearest class)
and refused with the API's 402 shape when the workspace's remaining credits do not
cover the estimate plus 20 % (code preflight_refused), or when a local usage limit
of the workspace or the project (mavtop budget set) would be passed (code
budget_exceeded, naming which). --no-preflight turns this off.

Jobs (focus groups, video analyses, brand voices) are recorded once: at creation
when the answer says the charge, else when first seen finished, polled through the
proxy or, after --job-poll without such a poll, by the proxy itself; a job it
cannot follow is recorded with code job_untracked. An answer cut short is read on
to learn its usage (--drain-timeout), else recorded with its charge unknown; a
call the API did not answer is recorded as the proxy's 502/504.

Tracking never holds a request: events wait in a bounded in-memory queue while Redis
is away (said in the log and in /metrics). /metrics on the same address: requests,
latency, pre-flight refusals, tracking backlog. Authorization is never logged.`,
		Example: `  mavtop proxy --redis redis://localhost:6379/0
  mavtop proxy --listen 127.0.0.1:8787 --upstream http://127.0.0.1:9000/api/v1 --keys ./proxy-keys
  OPENAI_BASE_URL=http://127.0.0.1:8787/api/v1 OPENAI_API_KEY=$MAVERA_API_KEY python app.py`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProxy(cmd, &rf, &pf) },
	}
	rf.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&pf.listen, "listen", "127.0.0.1:8787", "`address` to listen on (a port alone binds loopback; 0.0.0.0:8787 for every interface)")
	fl.StringVar(&pf.upstream, "upstream", proxy.DefaultUpstream, "API base `URL` requests are forwarded to")
	fl.StringVar(&pf.workspace, "workspace", client.DefaultWorkspace, "workspace of calls that name none")
	nonEmpty(fl, "listen", "upstream", "workspace")
	fl.StringVar(&pf.keys, "keys", "", "`file` of proxy tokens, one \"TOKEN API_KEY WORKSPACE [PROJECT]\" per line (default: forward each Authorization as is)")
	fl.BoolVar(&pf.noPreflight, "no-preflight", false, "forward priced jobs without the pre-flight check and local budgets")
	fl.Int64Var(&pf.maxBody, "max-body", proxy.DefaultMaxBody, "largest request body in `bytes` (413 beyond)")
	fl.DurationVar(&pf.upstreamTimeout, "upstream-timeout", proxy.DefaultUpstreamTimeout, "longest wait for the API's response headers (504 beyond)")
	fl.DurationVar(&pf.idleTimeout, "client-idle-timeout", 2*time.Minute, "close an application's keep-alive connection idle this long")
	fl.DurationVar(&pf.budgetCache, "budget-cache", proxy.DefaultBudgetCache, "how long a budget read may judge the chats and Mave questions after it, minus what they reserved (negative: read Redis for every priced call; jobs always do)")
	fl.DurationVar(&pf.jobPoll, "job-poll", proxy.DefaultJobPoll, "poll a job created through the proxy upstream once no one polled it through the proxy this long, to record its charge (negative: never)")
	fl.DurationVar(&pf.drainTimeout, "drain-timeout", proxy.DefaultDrainTimeout, "how long to go on reading an answer its application left, to learn what the call was charged")
	fl.IntVar(&pf.trackQueue, "track-queue", 100_000, "usage events kept in memory while Redis is away (beyond: dropped and counted)")
	return cmd
}

// proxyListenAddr fills in a loopback host when addr names only a port.
func proxyListenAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if _, perr := net.LookupPort("tcp", addr); perr != nil {
			return "", fmt.Errorf("--listen %q: %w", addr, err)
		}
		host, port = "", addr
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

func runProxy(cmd *cobra.Command, rf *redisFlags, pf *proxyFlags) error {
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	addr, err := proxyListenAddr(pf.listen)
	if err != nil {
		return exitf(2, "%v", err)
	}
	up, err := url.Parse(pf.upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return exitf(2, "--upstream %q is not an http(s) URL like %s", pf.upstream, proxy.DefaultUpstream)
	}
	if pf.maxBody <= 0 || pf.trackQueue <= 0 || pf.upstreamTimeout <= 0 || pf.drainTimeout <= 0 || pf.idleTimeout < 0 {
		return exitf(2, "--max-body, --track-queue, --upstream-timeout and --drain-timeout must be positive, --client-idle-timeout not negative")
	}
	var keys *proxy.Keys
	if pf.keys != "" {
		path, err := expandHome(pf.keys)
		if err != nil {
			return exitf(2, "%v", err)
		}
		if keys, err = proxy.LoadKeys(path); err != nil {
			return exitf(2, "%v", err)
		}
		pf.keys = path
	}
	if !rf.configured() {
		return exitf(2, "mavtop proxy writes every call's credits to Redis and needs one: %v", errNoRedis)
	}
	rdb, err := rf.connect(cmd.Context())
	if err != nil {
		return exitf(1, "mavtop proxy needs Redis to start: %v", err)
	}
	defer rdb.Close()

	// one PeriodLog for the tracking and the pre-flight: an unreadable period
	// config is said once, whichever reads it first
	plog := feed.NewPeriodLog(log, "usage events are recorded, and budgets read, in this period")
	pub := feed.NewPublisher(rdb, feed.PublisherOptions{Prefix: rf.prefix, RetryFor: 2 * time.Second, PeriodLog: plog})
	q := proxy.NewQueue(pub, proxy.QueueOptions{Capacity: pf.trackQueue, Log: log})
	qctx, stopQueue := context.WithCancel(context.Background())
	defer stopQueue()
	q.Run(qctx)
	cfg := proxy.Config{Upstream: up.String(), Workspace: pf.workspace, Keys: keys, Queue: q,
		MaxBody: pf.maxBody, UpstreamTimeout: pf.upstreamTimeout, DrainTimeout: pf.drainTimeout, BudgetCache: pf.budgetCache, JobPoll: pf.jobPoll, Log: log,
		PeriodUnreadable: plog.Unreadable}
	if !pf.noPreflight {
		cfg.Budgets = feed.NewBalances(rdb, feed.StoreOptions{Prefix: rf.prefix, PeriodLog: plog})
	}
	px, err := proxy.New(cfg)
	if err != nil {
		return exitf(2, "%v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return exitf(1, "mavtop proxy: listen on %s: %v", addr, err)
	}
	jctx, stopJobs := context.WithCancel(context.Background())
	defer stopJobs()
	followed := make(chan struct{})
	go func() { defer close(followed); px.Run(jctx) }()
	srv := px.Server(pf.idleTimeout)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if !sandbox.IsLoopback(ln.Addr().String()) {
		log.Warn("listening on an address that is not loopback: anyone who reaches it spends your credits", "addr", ln.Addr().String())
	}
	if up.Scheme == "http" && !sandbox.IsLoopback(up.Host) {
		log.Warn("upstream is plain http: API keys cross the network in the clear", "upstream", up.Redacted())
	}
	attrs := []any{"addr", ln.Addr().String(), "base_url", "http://" + ln.Addr().String() + up.Path,
		"upstream", up.Redacted(), "preflight", !pf.noPreflight, "metrics", "http://" + ln.Addr().String() + "/metrics"}
	if keys != nil {
		attrs = append(attrs, "proxy_tokens", keys.Len())
	}
	log.Info("mavtop proxy listening", attrs...)

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			if keys == nil {
				continue
			}
			if err := keys.Load(pf.keys); err != nil {
				log.Error("keys file not reloaded; the previous tokens stay in force", "err", err)
			} else {
				log.Info("keys file reloaded", "proxy_tokens", keys.Len())
			}
		case err := <-served:
			return exitf(1, "mavtop proxy: %v", err)
		case <-ctx.Done():
			log.Info("stopping: finishing requests in flight, then writing queued events")
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				srv.Close()
			}
			stopJobs() // jobs still pending are recorded as untracked
			<-followed
			if left := q.Drain(sctx); left > 0 {
				log.Error("stopped with usage events not written to Redis", "events", left)
			}
			stopQueue()
			q.Wait()
			return nil
		}
	}
}
