package feed

import (
	"testing"

	"mavtop/feed/feedtest"
)

// TestMain moves the default billing period when feedtest.EdgeEnv asks, so
// the tests can be run as if now were at a period's start or end.
func TestMain(m *testing.M) { feedtest.MainAtEdge(m) }
