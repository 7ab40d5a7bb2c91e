package feed

import (
	"fmt"
	"os"
	"testing"

	"mavtop/feed/feedtest"
)

// TestMain moves the default billing period when feedtest.EdgeEnv asks, so
// the tests can be run as if now were at a period's start or end.
func TestMain(m *testing.M) {
	if say, err := feedtest.AtEdge(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	} else if say != "" {
		fmt.Fprintln(os.Stderr, say)
	}
	os.Exit(m.Run())
}
