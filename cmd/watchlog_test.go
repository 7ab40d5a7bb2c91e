package cmd

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
	"mavtop/notify/notifytest"
)

// TestWatchLogsAFailedDelivery: a webhook that answers 500 and then 200. The
// failed attempt is logged at the default level (it was logged nowhere: an
// operator saw "alert firing" and nothing of the 500), with the alert's id
// and the error as stored (no URL path, where tokens live); the delivery is
// retried, as the README says of a 5xx, and its success after the failure is
// logged too.
func TestWatchLogsAFailedDelivery(t *testing.T) {
	srv := feedtest.Start(t)
	hook := notifytest.NewReceiver(t)
	period := model.MonthlyUTC.At(time.Now()).Key
	fired := notifytest.ThresholdKey(period, "acme", "50", model.AlertFiring)
	id := strings.TrimSuffix(fired, "#firing")
	refused := 0
	hook.Refuse(func(key string) int {
		if key == fired && refused == 0 {
			refused++
			return 500
		}
		return 0
	})
	stderr, stop := startWatch(t, "--redis", srv.URL, "--notify", hook.URL+"/hooks/s3cret-token")
	usage := notifytest.NewUsage(t, srv.Client())
	usage.Set("acme", model.Settings{Allocation: 1000})
	usage.Spend("acme", 600)
	waitUntil(t, 60*time.Second, "the webhook to take "+fired+" after a 500", hook.Has(fired))
	waitUntil(t, 10*time.Second, "the delivery after the failure logged", func() bool {
		return strings.Contains(stderr.String(), "alert delivered after failed attempts")
	})
	stop()
	log := stderr.String()
	if hook.Refused()[fired] != 1 || hook.Keys()[fired] != 1 {
		t.Errorf("%s refused %d times and taken %d, want once each", fired, hook.Refused()[fired], hook.Keys()[fired])
	}
	failed := regexp.MustCompile(`level=WARN msg="alert delivery failed, retrying" id=` + regexp.QuoteMeta(id) + ` status=firing sink=webhook:127\.0\.0\.1:\d+ attempt=1 err="500 Internal Server Error"`)
	if !failed.MatchString(log) {
		t.Errorf("the failed attempt is not logged with its id and error:\n%s", log)
	}
	sent := regexp.MustCompile(`level=INFO msg="alert delivered after failed attempts" id=` + regexp.QuoteMeta(id) + ` status=firing sink=webhook:127\.0\.0\.1:\d+ attempt=2`)
	if !sent.MatchString(log) {
		t.Errorf("the delivery after the failure is not logged:\n%s", log)
	}
	if strings.Contains(log, "s3cret") {
		t.Errorf("the log holds the webhook's path:\n%s", log)
	}
}

// TestWatchLogsWhatItDelivered: a watch without --notify claims the firing
// (its log says "alert firing") and a watch with --notify delivers it; the
// delivering watch's log said nothing of the alert at all.
func TestWatchLogsWhatItDelivered(t *testing.T) {
	srv := feedtest.Start(t)
	hook := notifytest.NewReceiver(t)
	period := model.MonthlyUTC.At(time.Now()).Key
	fired := notifytest.ThresholdKey(period, "acme", "50", model.AlertFiring)
	id := strings.TrimSuffix(fired, "#firing")
	plain, stopPlain := startWatch(t, "--redis", srv.URL)
	usage := notifytest.NewUsage(t, srv.Client())
	usage.Set("acme", model.Settings{Allocation: 1000})
	usage.Spend("acme", 600)
	waitUntil(t, 60*time.Second, "the plain watch to claim "+id, func() bool {
		return strings.Contains(plain.String(), `msg="alert firing" id=`+id+" ")
	})
	sender, stop := startWatch(t, "--redis", srv.URL, "--notify", hook.URL+"/hooks/s3cret-token")
	waitUntil(t, 60*time.Second, "the webhook to take "+fired, hook.Has(fired))
	sent := regexp.MustCompile(`level=INFO msg="alert delivered" id=` + regexp.QuoteMeta(id) + ` status=firing sink=webhook:127\.0\.0\.1:\d+ attempt=1`)
	waitUntil(t, 10*time.Second, "the delivery logged by the watch that sent it", func() bool { return sent.MatchString(sender.String()) })
	stop()
	stopPlain()
	if log := sender.String(); strings.Contains(log, "s3cret") {
		t.Errorf("the log holds the webhook's path:\n%s", log)
	}
}
