// Package tui is mavtop's dashboard: a Bubble Tea root model composing one
// component per file. It does no IO: data arrives as messages from the feed hub,
// and launches leave as intents the root turns into commands.
package tui

import (
	"fmt"

	"github.com/charmbracelet/lipgloss"

	"mavtop/model"
)

// LevelLook is how one budget level is drawn: a colour and a word that tells the
// level apart without colour (NO_COLOR, monochrome terminals, screen readers).
type LevelLook struct {
	Style  lipgloss.Style
	Symbol string
	Word   string
}

// Styles is the semantic theme, built from one renderer so that every SSH viewer
// gets styles for its own terminal.
type Styles struct {
	Renderer *lipgloss.Renderer

	Levels [model.LevelUnknown + 1]LevelLook

	Title      lipgloss.Style
	Demo       lipgloss.Style
	Good       lipgloss.Style
	Bad        lipgloss.Style
	Warn       lipgloss.Style
	Dim        lipgloss.Style
	Bold       lipgloss.Style
	Selected   lipgloss.Style
	Edge       lipgloss.Style
	EdgeFocus  lipgloss.Style
	PaneTitle  lipgloss.Style
	Banner     lipgloss.Style
	BarEmpty   lipgloss.Style
	Tick       lipgloss.Style
	Input      lipgloss.Style
	InputError lipgloss.Style
	Help       lipgloss.Style
	ChartLine  lipgloss.Style
	ChartAxis  lipgloss.Style
	ChartLabel lipgloss.Style
	Bar        lipgloss.Style
}

// shade is one colour of the palette in every form a terminal may take: true
// colour and the 256-colour cube for a dark and a light background, and the
// 16-colour code for each (where the terminal's own palette decides the hue).
type shade struct {
	dark, light       string // #rrggbb
	dark256, light256 string
	dark16, light16   string
}

func (c shade) color() lipgloss.TerminalColor {
	return lipgloss.CompleteAdaptiveColor{
		Dark:  lipgloss.CompleteColor{TrueColor: c.dark, ANSI256: c.dark256, ANSI: c.dark16},
		Light: lipgloss.CompleteColor{TrueColor: c.light, ANSI256: c.light256, ANSI: c.light16},
	}
}

// palette is mavtop's colours. Every level colour has a contrast of at least
// 3:1 (WCAG) on the background it is made for (black to #1c1c1c for dark,
// white to #f0f0f0 for light; TestPaletteContrast measures it), and the six
// levels take six different 16-colour codes on either background, so
// TERM=xterm still tells warn from high.
var palette = struct {
	levels                   [model.LevelExhausted + 1]shade
	blue, grey, fg, selectBg shade
}{
	levels: [...]shade{
		model.LevelNone:      {"#8a8a8a", "#6c6c6c", "245", "242", "8", "8"},
		model.LevelOK:        {"#5fd75f", "#008700", "77", "28", "10", "2"},
		model.LevelWarn:      {"#ffd75f", "#878700", "221", "100", "11", "3"},
		model.LevelHigh:      {"#ff8700", "#d75f00", "208", "166", "3", "1"},
		model.LevelCritical:  {"#ff5f5f", "#d70000", "203", "160", "9", "9"},
		model.LevelExhausted: {"#ff5fd7", "#af00af", "206", "127", "13", "5"},
	},
	blue:     shade{"#5fafff", "#005fd7", "75", "26", "12", "4"},
	grey:     shade{"#8a8a8a", "#6c6c6c", "245", "242", "8", "8"},
	fg:       shade{"#eeeeee", "#1c1c1c", "255", "234", "15", "0"},
	selectBg: shade{"#303a4a", "#d0d8e8", "237", "253", "8", "7"},
}

// DefaultStyles builds the theme from r (lipgloss.DefaultRenderer() locally, a
// per-session renderer over SSH). The renderer's background (dark or light:
// detected, or set from --theme) picks each colour's variant.
func DefaultStyles(r *lipgloss.Renderer) Styles {
	pl := &palette
	lv := func(l model.Level) lipgloss.TerminalColor { return pl.levels[l].color() }
	green, yellow, red := lv(model.LevelOK), lv(model.LevelWarn), lv(model.LevelCritical)
	grey, blue, fg := pl.grey.color(), pl.blue.color(), pl.fg.color()
	s := Styles{Renderer: r}
	s.Levels = [...]LevelLook{
		model.LevelNone:      {r.NewStyle().Foreground(lv(model.LevelNone)), "·", model.Unset},
		model.LevelOK:        {r.NewStyle().Foreground(green), "✓", "ok"},
		model.LevelWarn:      {r.NewStyle().Foreground(yellow), "▲", "warn"},
		model.LevelHigh:      {r.NewStyle().Foreground(lv(model.LevelHigh)), "▲", "high"},
		model.LevelCritical:  {r.NewStyle().Foreground(red).Bold(true), "▲", "crit"},
		model.LevelExhausted: {r.NewStyle().Foreground(lv(model.LevelExhausted)).Bold(true), "✖", "OUT"},
		// a counter that cannot be read: grey as unset (no colour claims a
		// level), its own symbol and word so it reads apart without colour
		model.LevelUnknown: {r.NewStyle().Foreground(lv(model.LevelNone)).Bold(true), "?", "unkn"},
	}
	s.Title = r.NewStyle().Bold(true).Foreground(blue)
	s.Demo = r.NewStyle().Bold(true).Reverse(true).Foreground(yellow)
	s.Good = r.NewStyle().Foreground(green)
	s.Bad = r.NewStyle().Foreground(red).Bold(true)
	s.Warn = r.NewStyle().Foreground(yellow)
	s.Dim = r.NewStyle().Foreground(grey)
	s.Bold = r.NewStyle().Bold(true)
	s.Selected = r.NewStyle().Bold(true).Foreground(fg).Background(pl.selectBg.color())
	s.Edge = r.NewStyle().Foreground(grey)
	s.EdgeFocus = r.NewStyle().Foreground(blue)
	s.PaneTitle = r.NewStyle().Bold(true)
	s.Banner = r.NewStyle().Bold(true).Reverse(true)
	s.BarEmpty = r.NewStyle().Foreground(grey)
	s.Tick = r.NewStyle().Foreground(fg)
	s.Input = r.NewStyle().Foreground(fg)
	s.InputError = r.NewStyle().Foreground(red)
	s.Help = r.NewStyle().Foreground(grey)
	s.ChartLine = r.NewStyle().Foreground(blue)
	s.ChartAxis = r.NewStyle().Foreground(grey)
	s.ChartLabel = r.NewStyle().Foreground(grey)
	s.Bar = r.NewStyle().Foreground(blue)
	return s
}

// Level returns the look of a level.
func (s *Styles) Level(l model.Level) LevelLook {
	if int(l) >= len(s.Levels) {
		return s.Levels[model.LevelNone]
	}
	return s.Levels[l]
}

// Theme is which background the colours are made for.
type Theme string

// The themes: auto asks the terminal (locally; over SSH a session whose
// terminal does not answer at once gets dark).
const (
	ThemeAuto  Theme = "auto"
	ThemeDark  Theme = "dark"
	ThemeLight Theme = "light"
)

// ParseTheme reads a --theme value; the error lists the valid ones.
func ParseTheme(s string) (Theme, error) {
	switch t := Theme(s); t {
	case ThemeAuto, ThemeDark, ThemeLight:
		return t, nil
	case "":
		return ThemeAuto, nil
	}
	return "", fmt.Errorf("theme %q: want auto, dark or light", s)
}

// Apply sets r's background for a fixed theme; auto leaves r as detected.
func (t Theme) Apply(r *lipgloss.Renderer) {
	switch t {
	case ThemeDark:
		r.SetHasDarkBackground(true)
	case ThemeLight:
		r.SetHasDarkBackground(false)
	}
}
