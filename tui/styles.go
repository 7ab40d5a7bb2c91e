// Package tui is mavtop's dashboard: a Bubble Tea root model composing one
// component per file. It does no IO: data arrives as messages from the feed hub,
// and launches leave as intents the root turns into commands.
package tui

import (
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

	Levels [model.LevelExhausted + 1]LevelLook

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

// DefaultStyles builds the theme from r (lipgloss.DefaultRenderer() locally, a
// per-session renderer over SSH).
func DefaultStyles(r *lipgloss.Renderer) Styles {
	c := func(hex string, ansi string) lipgloss.TerminalColor {
		return lipgloss.CompleteColor{TrueColor: hex, ANSI256: ansi, ANSI: ansiOf(ansi)}
	}
	green, yellow, orange, red, magenta := c("#5fd75f", "77"), c("#ffd75f", "221"), c("#ff8700", "208"), c("#ff5f5f", "203"), c("#ff5fd7", "206")
	grey, blue, white := c("#8a8a8a", "245"), c("#5fafff", "75"), c("#eeeeee", "255")
	s := Styles{Renderer: r}
	s.Levels = [...]LevelLook{
		model.LevelNone:      {r.NewStyle().Foreground(grey), "·", "unset"},
		model.LevelOK:        {r.NewStyle().Foreground(green), "✓", "ok"},
		model.LevelWarn:      {r.NewStyle().Foreground(yellow), "▲", "warn"},
		model.LevelHigh:      {r.NewStyle().Foreground(orange), "▲", "high"},
		model.LevelCritical:  {r.NewStyle().Foreground(red).Bold(true), "▲", "crit"},
		model.LevelExhausted: {r.NewStyle().Foreground(magenta).Bold(true), "✖", "OUT"},
	}
	s.Title = r.NewStyle().Bold(true).Foreground(blue)
	s.Demo = r.NewStyle().Bold(true).Reverse(true).Foreground(yellow)
	s.Good = r.NewStyle().Foreground(green)
	s.Bad = r.NewStyle().Foreground(red).Bold(true)
	s.Warn = r.NewStyle().Foreground(yellow)
	s.Dim = r.NewStyle().Foreground(grey)
	s.Bold = r.NewStyle().Bold(true)
	s.Selected = r.NewStyle().Bold(true).Foreground(white).Background(c("#303a4a", "237"))
	s.Edge = r.NewStyle().Foreground(grey)
	s.EdgeFocus = r.NewStyle().Foreground(blue)
	s.PaneTitle = r.NewStyle().Bold(true)
	s.Banner = r.NewStyle().Bold(true).Reverse(true)
	s.BarEmpty = r.NewStyle().Foreground(grey)
	s.Tick = r.NewStyle().Foreground(white)
	s.Input = r.NewStyle().Foreground(white)
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

// ansiOf maps the 256-colour codes used above to the 16-colour palette.
func ansiOf(code string) string {
	switch code {
	case "77":
		return "10"
	case "221", "208":
		return "11"
	case "203":
		return "9"
	case "206":
		return "13"
	case "75":
		return "12"
	case "255":
		return "15"
	}
	return "8"
}
