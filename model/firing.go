package model

import "fmt"

// FiringCount is what every surface counts as "N firing" (the dashboard's
// header, `mavtop alerts`): the workspaces with at least one alert firing —
// a workspace's 50, 75 and 90 % thresholds, its run-out and its 402s firing
// together are one workspace, not five alarms — and the feed when its own
// alert (feed_stale, about no workspace) fires. Alerts counts every alert
// firing; Worst is the worst level among them (LevelOK when none fires).
type FiringCount struct {
	Workspaces int
	Feed       bool
	Alerts     int
	Worst      Level
	seen       map[string]bool
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
// firing", "feed + 2 ws firing", "feed firing" ("5 firing" beside the alerts
// pane's "18 firing" read as two counts of one thing); "" when nothing fires.
func (c FiringCount) Short() string {
	switch {
	case c.Alerts == 0:
		return ""
	case c.Feed && c.Workspaces > 0:
		return fmt.Sprintf("feed + %d ws firing", c.Workspaces)
	case c.Feed:
		return "feed firing"
	}
	return fmt.Sprintf("%d ws firing", c.Workspaces)
}

// AlertsFiring says how many alerts fire, in the words every alert list uses:
// "18 alerts firing" (the header counts workspaces, String and Short).
func (c FiringCount) AlertsFiring() string {
	return CountOf(c.Alerts, "alert") + " firing"
}

// String says what fires in words: "3 workspaces firing", "the feed and 1
// workspace firing", "the feed firing"; "" when nothing fires.
func (c FiringCount) String() string {
	switch {
	case c.Alerts == 0:
		return ""
	case c.Feed && c.Workspaces > 0:
		return "the feed and " + CountOf(c.Workspaces, "workspace") + " firing"
	case c.Feed:
		return "the feed firing"
	}
	return CountOf(c.Workspaces, "workspace") + " firing"
}
