package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// The footer's key hints drop whole bindings when the width runs short, never
// cut one mid-word (">/…"), and always keep help and quit at the right.
func TestFooterKeepsWholeBindings(t *testing.T) {
	for _, w := range []int{60, 66, 72, 80, 88, 96, 100, 110, 120} {
		m := busyApp(t, w, 24)
		m.alerts.bannerEnd = time.Time{} // the newest alert's banner has gone: the keys show
		whole := map[string]bool{}
		for _, b := range m.paneHelp() {
			whole[b.Help().Key+" "+b.Help().Desc] = true
		}
		f := ansi.Strip(m.footer())
		i := strings.Index(f, ansi.Strip(m.help.ShortHelpView(m.globalHelp())))
		if i < 0 || !strings.HasSuffix(strings.TrimRight(f, " "), "q quit") {
			t.Fatalf("width %d: help or quit missing: %q", w, f)
		}
		left := strings.TrimSpace(f[:i])
		left = strings.TrimSpace(strings.TrimSuffix(left, "…"))
		for _, item := range strings.Split(left, " • ") {
			if item = strings.TrimSpace(item); item != "" && !whole[item] {
				t.Errorf("width %d: footer item %q is not a whole binding: %q", w, item, f)
			}
		}
	}
}
