package feed_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"mavtop/feed"
	"mavtop/model"
	"mavtop/notify"
)

// BenchmarkIngestWithNotifier is BenchmarkIngest's comparison with what
// `mavtop watch --notify URL` runs beside the subscriber: a hub (whose
// ledger takes every batch, as (b)'s does), an alert watcher joined to it
// that evaluates every second on its own copy, claims transitions in the
// store and delivers them to a local receiver answering 503 to everything
// (retried, never delivered). Every workspace of the stream has an allocation
// the 500,000 entries cross many times over, so every threshold, allocation
// and run-out alert fires and keeps retrying during the pass. The ratio is
// the one BenchmarkIngest reports: (b) over the bare XREAD loop. The
// sub-benchmark nosink runs the same hub and watcher without a sink (what a
// dashboard without --notify runs): the two ratios apart are what delivering
// to a failing receiver costs the ingest.
//
//	go test ./feed -run '^$' -bench IngestWithNotifier -benchtime 9x
func BenchmarkIngestWithNotifier(b *testing.B) {
	b.Run("503", func(b *testing.B) { benchIngestWatcher(b, true) })
	b.Run("nosink", func(b *testing.B) { benchIngestWatcher(b, false) })
}

func benchIngestWatcher(b *testing.B, deliver bool) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer refusing.Close()
	settings := map[string]model.Settings{}
	for _, ws := range []string{"acme", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"} {
		settings[ws] = model.Settings{Allocation: 100_000}
	}
	var sent, retried int64
	firing := 0
	name := "subscriber+hub+watcher"
	if deliver {
		name += "+503 receiver"
	}
	feed.BenchIngest(b, name, func(b *testing.B, c redis.UniversalClient) feed.IngestConsumer {
		ctx, cancel := context.WithCancel(context.Background())
		now := time.Now()
		period := model.MonthlyUTC.At(now)
		// each pass starts with no lifecycle: every alert fires in it
		if err := c.Del(ctx, feed.Keys{}.Alerts(period.Key)).Err(); err != nil {
			b.Fatal(err)
		}
		hub := feed.NewHub()
		// what a start snapshot of an empty period would hand the hub; the
		// replayed batches (generation 0) follow it
		hub.Handle(&feed.SnapshotMsg{Snap: &model.Snapshot{Period: period, StreamID: "0-0", Settings: settings}, Rule: model.MonthlyUTC, At: now})
		var n *notify.Notifier
		if deliver {
			sinks, err := notify.ParseSinks([]string{refusing.URL}, nil)
			if err != nil {
				b.Fatal(err)
			}
			n = notify.New(sinks, notify.Options{})
		}
		// evaluating ten times a second (watch's is once): a pass takes
		// about a second on an idle machine
		w := notify.NewWatcher(notify.WatcherOptions{Hub: hub, Store: feed.NewAlertStore(c, ""), Notifier: n,
			Every: 100 * time.Millisecond})
		go func() { _ = w.Run(ctx) }()
		return feed.IngestConsumer{
			Handle: hub.Handle,
			Applied: func() (n int64) {
				hub.Read(func(l *model.Ledger, _ *feed.ConnMsg, _ *feed.StatsMsg) { n = l.Counts().Applied })
				return n
			},
			Stop: func() {
				cancel()
				<-w.Stopped()
				for k, n := range w.Notifications() {
					switch k[1] {
					case notify.OutcomeSent:
						sent += n
					case notify.OutcomeRetrying:
						retried += n
					}
				}
				firing = max(firing, w.Firing())
			},
		}
	})
	b.Logf("over all passes: up to %d alerts firing in a pass, %d attempts answered 503 (retrying), %d sent", firing, retried, sent)
	if firing == 0 || sent != 0 || deliver && retried == 0 {
		b.Fatalf("%d alerts fired, %d deliveries sent, %d refused: want alerts firing, none delivered", firing, sent, retried)
	}
}
