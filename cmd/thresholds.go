package cmd

import (
	"github.com/spf13/pflag"

	"mavtop/config"
)

// thresholdsFlag is --default-alerts: the alert thresholds (percent, three,
// ascending) of workspaces whose settings have none of their own. mavtop.toml's
// alerts.thresholds fills it, so the dashboard, serve, check and budget show
// judge every workspace alike.
type thresholdsFlag string

func (f *thresholdsFlag) add(fl *pflag.FlagSet) {
	fl.StringVar((*string)(f), "default-alerts", config.DefaultThresholds(), "alert thresholds (percent, three, ascending) of workspaces whose settings have none of their own; not given: the ones stored in Redis (mavtop budget rules), the default only when none are")
	nonEmpty(fl, "default-alerts")
}

// parse returns the thresholds; a bad list is a usage error (exit 2).
func (f thresholdsFlag) parse() ([]int, error) {
	t, err := config.Thresholds(string(f))
	if err != nil {
		return nil, exitf(2, "--default-alerts: %v", err)
	}
	return t[:], nil
}
