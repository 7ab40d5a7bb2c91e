package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mavtop/feed"
	"mavtop/feed/feedtest"
)

// TestHeaderNamesTheStreamKeyItCannotRead: while the stream key holds a
// hash (hunt11's second defect) the header's reconnecting part names the key
// at every width from 80 columns: the subscriber's error leads with it and
// holds no ": " (the header keeps an error's last part after one, which
// said only "no usage entry can be read").
func TestHeaderNamesTheStreamKeyItCannotRead(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	if err := c.HSet(ctx, feed.Keys{}.Stream(), "a", "b").Err(); err != nil {
		t.Fatal(err)
	}
	var se error
	sub := feed.NewSubscriber(c, feed.SubscriberOptions{Block: 50 * time.Millisecond})
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sub.Run(sctx, func(m feed.Msg) {
			if cm, ok := m.(*feed.ConnMsg); ok && cm.Err != nil && se == nil {
				se = cm.Err
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cancel()
		<-done
		t.Fatal("no failed attempt reported")
	}
	for w := 80; w <= 200; w += 10 {
		h := NewHeader(testCommon(), false)
		h.SetWidth(w)
		h.conn = feed.ConnMsg{State: feed.Reconnecting, Attempt: 4, Err: se, Since: testNow.Add(-time.Minute)}
		h.period.Key = "2026-12"
		h.period.End = testNow.Add(30 * 24 * time.Hour)
		if line := ansi.Strip(h.View()); !strings.Contains(line, `"{mavera}:usage"`) {
			t.Errorf("w=%d: the header does not name the stream key (%v): %q", w, se, line)
		}
	}
}
