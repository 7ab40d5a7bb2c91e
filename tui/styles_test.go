package tui

import (
	"math"
	"strconv"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"mavtop/model"
)

// luminance is WCAG 2's relative luminance of #rrggbb.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil || len(hex) != 7 {
		t.Fatalf("colour %q", hex)
	}
	lin := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// TestPaletteContrast measures every level colour (and the text colours drawn
// beside them) against the backgrounds its variant is made for: at least 3:1,
// WCAG's minimum for large text and graphics. The lowest ratios measured are
// logged (go test -v -run PaletteContrast ./tui).
func TestPaletteContrast(t *testing.T) {
	darkBgs, lightBgs := []string{"#000000", "#1c1c1c"}, []string{"#ffffff", "#f0f0f0"}
	shades := map[string]shade{"blue": palette.blue, "grey": palette.grey}
	for l, s := range palette.levels {
		shades[model.Level(l).String()] = s
	}
	for name, s := range shades {
		worst := math.Inf(1)
		for _, bg := range darkBgs {
			worst = min(worst, contrast(t, s.dark, bg))
		}
		worstLight := math.Inf(1)
		for _, bg := range lightBgs {
			worstLight = min(worstLight, contrast(t, s.light, bg))
		}
		t.Logf("%-9s dark %s %.2f:1   light %s %.2f:1", name, s.dark, worst, s.light, worstLight)
		if worst < 3 || worstLight < 3 {
			t.Errorf("%s: contrast %.2f:1 on dark, %.2f:1 on light; want ≥ 3:1", name, worst, worstLight)
		}
	}
	// the selected row's text on its highlight
	if c := contrast(t, palette.fg.dark, palette.selectBg.dark); c < 4.5 {
		t.Errorf("selected row on dark: %.2f:1", c)
	}
	if c := contrast(t, palette.fg.light, palette.selectBg.light); c < 4.5 {
		t.Errorf("selected row on light: %.2f:1", c)
	}
}

// TestLevelsDistinctOn16Colours: on a 16-colour terminal (TERM=xterm) every
// level has a colour of its own, on either background.
func TestLevelsDistinctOn16Colours(t *testing.T) {
	for _, dark := range []bool{true, false} {
		r := lipgloss.NewRenderer(nil)
		r.SetColorProfile(termenv.ANSI)
		r.SetHasDarkBackground(dark)
		st := DefaultStyles(r)
		seen := map[string]model.Level{}
		for l, look := range st.Levels {
			out := look.Style.Render("x")
			if prev, dup := seen[out]; dup {
				t.Errorf("dark=%v: %v and %v are drawn alike: %q", dark, prev, model.Level(l), out)
			}
			seen[out] = model.Level(l)
		}
	}
}

func TestParseTheme(t *testing.T) {
	for in, want := range map[string]Theme{"": ThemeAuto, "auto": ThemeAuto, "dark": ThemeDark, "light": ThemeLight} {
		if got, err := ParseTheme(in); err != nil || got != want {
			t.Errorf("ParseTheme(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseTheme("solarized"); err == nil {
		t.Error("an unknown theme was accepted")
	}
}
