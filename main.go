// Command mavtop is a terminal dashboard for Mavera API credit usage. The
// commands live in cmd/, the logic in the packages; see the README.
package main

import (
	"os"

	"mavtop/cmd"
	"mavtop/internal/memlimit"
)

func main() {
	// GOGC=400 while the heap is small (ingest speed), a soft limit of twice the
	// live heap once it is large, held at its high of the last 10 minutes so RSS
	// stays level; GOGC and GOMEMLIMIT in the environment win.
	memlimit.Apply(os.Getenv)
	os.Exit(cmd.Execute())
}
