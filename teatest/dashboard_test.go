package teatest

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"mavtop/model"
)

func TestEmptyStart(t *testing.T) {
	r := newRig(t, 100, 30)
	// the endpoint bars say "loading…" until the start's used_by read is in:
	// on a loaded machine the first frames come before it
	r.waitFor("No usage events yet this period", "no credits spent yet")
	s := r.requireGolden()
	if !strings.Contains(s, "● connected") {
		t.Fatalf("not connected:\n%s", s)
	}
}

// levels publishes one workspace at each level (and one without allocation).
func levels(r *rig) {
	for ws, alloc := range map[string]int64{"low": 1000, "half": 1000, "three-q": 1000, "ninety": 1000, "spent": 1000} {
		r.setWorkspace(ws, model.Settings{Allocation: alloc})
	}
	r.track(
		model.Event{Workspace: "low", Project: "web", Endpoint: "/responses", Credits: 120},
		model.Event{Workspace: "half", Project: "web", Endpoint: "/mave/chat", Credits: 500},
		model.Event{Workspace: "three-q", Project: "ml", Endpoint: "/focus-groups", Credits: 760},
		model.Event{Workspace: "ninety", Endpoint: "/video-analyses", Credits: 901},
		model.Event{Workspace: "spent", Endpoint: "/personas", Credits: 1000},
		model.Event{Workspace: "no-budget", Endpoint: "/responses", Credits: 42},
	)
}

func TestWorkspacesAtEveryLevel(t *testing.T) {
	r := newRig(t, 120, 30)
	levels(r)
	r.waitFor("no-budget", "12 % used", "50 % used", "76 % used", "90.1 % used", "100 % used")
	s := r.requireGolden()
	for _, want := range []string{"✓ ok", "▲ warn", "▲ high", "▲ crit", "✖ OUT", "· unset", "1.00k/1.00k", "no allocation set"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
}

func TestRefusalArrives(t *testing.T) {
	r := newRig(t, 120, 30)
	r.setWorkspace("acme", model.Settings{Allocation: 500})
	r.track(
		model.Event{Workspace: "acme", Project: "web", Endpoint: "/focus-groups", Credits: 450},
		model.Event{Workspace: "acme", Project: "web", Endpoint: "/focus-groups", Status: 402,
			Code: model.CodeCreditsExhausted, Msg: "You have run out of credits", Req: "req_42"},
	)
	r.waitFor("402 refusals (1 this period)", "req_42", "got 402 credits_exhausted")
	s := r.requireGolden()
	if !strings.Contains(s, "account credits") || !strings.Contains(s, "https://app.mavera.io/settings/billing") {
		t.Fatalf("refusal without its budget or billing link:\n%s", s)
	}
}

func TestThresholdCrossingAlert(t *testing.T) {
	r := newRig(t, 120, 30)
	r.setWorkspace("acme", model.Settings{Allocation: 1000})
	r.track(model.Event{Workspace: "acme", Endpoint: "/mave/chat", Credits: 700})
	r.waitFor("70 % used")
	r.track(model.Event{Workspace: "acme", Endpoint: "/mave/chat", Credits: 60})
	r.waitFor("acme used 75 % of its 1,000-credit cap (at the time: 760 credits used, 76 %)")
	r.requireGolden()
}

func TestEstimatorRefusesJob(t *testing.T) {
	r := newRig(t, 100, 30)
	r.setWorkspace("tight", model.Settings{Allocation: 1000})
	r.track(model.Event{Workspace: "tight", Endpoint: "/responses", Credits: 900})
	r.waitFor("90.0 % used") // FormatPercent: one decimal from 90 %
	r.send(keys("e")...)
	r.waitFor("remaining in tight: 100 credits")
	// focus group of 40 with 6 questions: 137 + 27 = 164 > 100
	r.send(keys("down down bs bs 4 0 down bs 6 enter")...)
	r.waitFor("Estimated 137 credits (164 with the 20 % buffer); only 100 remaining in tight")
	s := r.requireGolden()
	if !strings.Contains(s, "reduce sample size / questions") {
		t.Fatalf("no advice:\n%s", s)
	}
}

func TestResizeTo80x24(t *testing.T) {
	r := newRig(t, 160, 45)
	levels(r)
	r.waitFor("no-budget")
	r.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	r.waitFor("╰──────────────────────────────────────────────────────────────────────────────╯")
	s := r.requireGolden()
	lines := strings.Split(s, "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines at 80×24", len(lines))
	}
	for i, l := range lines {
		if w := len([]rune(l)); w > 80 {
			t.Fatalf("line %d is %d wide: %q", i, w, l)
		}
	}
}
