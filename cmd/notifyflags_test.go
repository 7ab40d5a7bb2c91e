package cmd

import (
	"fmt"
	"os"
	"testing"

	"github.com/spf13/cobra"
)

// The payloads name the instance that delivered them: --instance, or the host,
// the command (mavtop, serve, watch) and the process id: two watchers on one
// host both called themselves "web-1/watch".
func TestNotifyInstanceName(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		use  string
		args []string
		want string
	}{
		{"watch", nil, fmt.Sprintf("%s/watch[%d]", host, os.Getpid())},
		{"serve", nil, fmt.Sprintf("%s/serve[%d]", host, os.Getpid())},
		{"mavtop", nil, fmt.Sprintf("%s/mavtop[%d]", host, os.Getpid())},
		{"watch", []string{"--instance", "pager-eu-1"}, "pager-eu-1"},
	} {
		var f notifyFlags
		c := &cobra.Command{Use: tc.use}
		f.addFlags(c)
		if err := c.Flags().Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if got := f.instanceName(); got != tc.want {
			t.Errorf("%s %v: instance %q, want %q", tc.use, tc.args, got, tc.want)
		}
	}
}
