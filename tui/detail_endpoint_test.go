package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestDetailTopEndpointIsWhole: the detail view's projects table cut its top
// endpoint at 80 columns ("/responses…", the header "top endpoi…"); narrower
// than the row and the endpoint need, it goes on a line of its own under its
// project, whole, with its credits. A recent 402's "refused by" (cut to "…"
// at 80 columns) leads its message's line instead.
func TestDetailTopEndpointIsWhole(t *testing.T) {
	for _, sz := range goldenSizes {
		w, h := sz[0], sz[1]
		m := update(t, busyApp(t, w, h), press("enter"), OpenDetailMsg{Workspace: "out-ws"})
		d := m.detail
		d.height = 100 // every line, not the pane's window
		lines := strings.Split(ansi.Strip(d.View()), "\n")
		var got []string
		for _, l := range lines {
			if strings.Contains(l, "top endpoi") || strings.Contains(l, "/responses") || strings.Contains(l, "/focus-groups") {
				got = append(got, strings.TrimRight(l, " "))
			}
			if cellWidth(l) > d.width {
				t.Errorf("%dx%d: line %q wider than %d", w, h, l, d.width)
			}
		}
		for _, want := range []string{"/responses 500", "/focus-groups 0"} {
			found := false
			for _, l := range got {
				found = found || strings.Contains(l, want)
			}
			if !found {
				t.Errorf("%dx%d: the projects' top endpoint %q is not whole:\n%s", w, h, want, strings.Join(got, "\n"))
			}
		}
		for _, l := range got {
			if strings.Contains(l, "…") {
				t.Errorf("%dx%d: cut: %q", w, h, l)
			}
		}
	}
}
