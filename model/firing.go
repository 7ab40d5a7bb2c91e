package model

import (
	"fmt"
	"slices"
	"strings"
)

// FiringCount is what every surface counts as "N firing" (the dashboard's
// header, `mavtop alerts`): the workspaces with at least one alert firing —
// a workspace's 50, 75 and 90 % thresholds, its run-out and its 402s firing
// together are one workspace, not five alarms — and the feed when its own
// alert (feed_stale, about no workspace) fires. Alerts counts every alert
// firing; Worst is the worst level among them (LevelOK when none fires).
//
// The feed's alerts are named, never counted as a bare "feed": Short and
// String say which fires ("feed reset", "feed stale", FeedAlertName) and
// String what it says (its cause, e.g. "Redis lost data …: counters re-read,
// −2,927 credits"), so an operator reads what to act on.
type FiringCount struct {
	Workspaces int
	Feed       bool
	Alerts     int
	Worst      Level
	seen       map[string]bool
	feed       []FeedFiring
}

// FeedFiring is one of the feed's own alerts firing: its name
// (FeedAlertName: "feed reset", "feed stale") and what it says (its
// sentence or note, sanitised and cut to MaxFeedCause runes; "" unknown).
type FeedFiring struct {
	Name  string
	Cause string
}

// MaxFeedCause bounds the cause a firing count repeats of a feed alert, in
// runes: the text comes from records stored in Redis.
const MaxFeedCause = 200

// FeedAlertName names a feed alert (one about no workspace) by its id
// (AlertID, an episode's too): "feed stale" for AlertStale, "feed <reason>"
// for AlertResync ("feed reset", "feed restart", "feed drift", …; the
// reason is one of ResyncReasons, anything else is "feed resync"), "feed
// alert" for an id of no feed kind known. Never "".
func FeedAlertName(id string) string {
	base, _ := SplitEpisode(id)
	parts := strings.Split(base, "/")
	if len(parts) != 5 {
		return "feed alert"
	}
	switch AlertKind(parts[3]) {
	case AlertStale:
		return "feed stale"
	case AlertResync:
		if IsResyncReason(parts[4]) {
			return "feed " + parts[4]
		}
		return "feed resync"
	}
	return "feed alert"
}

// AddAlert counts one alert firing by its id (AlertID; the workspace is its
// second part, "-" for the feed) at lvl; cause is what it says (its
// newest sentence, or an AlertResync's Note), which String repeats for a
// feed alert.
func (c *FiringCount) AddAlert(id string, lvl Level, cause string) {
	if ws := IDWorkspace(id); ws != "" {
		c.Add(ws, lvl)
		return
	}
	c.AddFeed(FeedAlertName(id), cause, lvl)
}

// AddFeed counts one of the feed's alerts firing, named name (FeedAlertName)
// and saying cause, at lvl.
func (c *FiringCount) AddFeed(name, cause string, lvl Level) {
	c.Add("", lvl)
	c.NameFeed(name, cause)
}

// NameFeed records a feed alert firing, named name (FeedAlertName) and
// saying cause, without counting it in Alerts or Worst: for a count whose
// figures are kept elsewhere (notify's index). It sets Feed.
func (c *FiringCount) NameFeed(name, cause string) {
	c.Feed = true
	if name == "" {
		name = "feed alert"
	}
	c.feed = append(c.feed, FeedFiring{Name: Sanitize(name), Cause: cutRunes(strings.TrimSpace(Sanitize(cause)), MaxFeedCause)})
	slices.SortFunc(c.feed, func(a, b FeedFiring) int { return strings.Compare(a.Name, b.Name) })
}

// FeedFirings are the feed's alerts counted with AddFeed or AddAlert, by
// name (none for a count made with Add("") alone).
func (c FiringCount) FeedFirings() []FeedFiring { return slices.Clone(c.feed) }

// IDWorkspace is the workspace of an alert id ("<period>/<workspace>/…"):
// "" for "-" or an id of no such part (the feed's).
func IDWorkspace(id string) string {
	_, rest, ok := strings.Cut(id, "/")
	if !ok {
		return ""
	}
	ws, _, ok := strings.Cut(rest, "/")
	if !ok || ws == "-" {
		return ""
	}
	return ws
}

// feedNames says which feed alerts fire: "feed reset", "feed reset, feed
// stale"; "feed" when none was named (a count made with Add("")).
func (c FiringCount) feedNames() string {
	if len(c.feed) == 0 {
		return "feed"
	}
	names := make([]string, len(c.feed))
	for i, f := range c.feed {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// feedWords says which feed alerts fire and what each says: "feed reset
// (Redis lost data …: counters re-read, −3,000 credits)".
func (c FiringCount) feedWords() string {
	if len(c.feed) == 0 {
		return "the feed"
	}
	words := make([]string, len(c.feed))
	for i, f := range c.feed {
		words[i] = f.Name
		if f.Cause != "" {
			words[i] += " (" + f.Cause + ")"
		}
	}
	return strings.Join(words, ", ")
}

func cutRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Add counts one alert firing, about workspace ("" for none: the feed) at lvl.
func (c *FiringCount) Add(workspace string, lvl Level) {
	if c.Alerts == 0 || lvl > c.Worst {
		c.Worst = lvl
	}
	c.Alerts++
	if workspace == "" {
		c.Feed = true
		return
	}
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if !c.seen[workspace] {
		c.seen[workspace] = true
		c.Workspaces++
	}
}

// N is the count "N firing" says: the workspaces with an alert firing, and
// the feed as one more when it is stale.
func (c FiringCount) N() int {
	if c.Feed {
		return c.Workspaces + 1
	}
	return c.Workspaces
}

// Short says what fires where room is short, naming what it counts: "5 ws
// firing", "feed reset + 2 ws firing", "feed stale firing" ("5 firing"
// beside the alerts pane's "18 firing" read as two counts of one thing);
// "" when nothing fires.
func (c FiringCount) Short() string {
	switch {
	case c.Alerts == 0:
		return ""
	case c.Feed && c.Workspaces > 0:
		return fmt.Sprintf("%s + %d ws firing", c.feedNames(), c.Workspaces)
	case c.Feed:
		return c.feedNames() + " firing"
	}
	return fmt.Sprintf("%d ws firing", c.Workspaces)
}

// AlertsFiring says how many alerts fire, in the words every alert list uses:
// "18 alerts firing" (the header counts workspaces, String and Short).
func (c FiringCount) AlertsFiring() string {
	return CountOf(c.Alerts, "alert") + " firing"
}

// String says what fires in words: "3 workspaces firing", "feed stale (the
// usage stream is read 6 min late) and 1 workspace firing", "feed reset
// (Redis lost data …: counters re-read, −3,000 credits) firing"; "" when
// nothing fires.
func (c FiringCount) String() string {
	switch {
	case c.Alerts == 0:
		return ""
	case c.Feed && c.Workspaces > 0:
		return c.feedWords() + " and " + CountOf(c.Workspaces, "workspace") + " firing"
	case c.Feed:
		return c.feedWords() + " firing"
	}
	return CountOf(c.Workspaces, "workspace") + " firing"
}
