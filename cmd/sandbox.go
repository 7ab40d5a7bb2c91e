package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"mavtop/client/sandbox"
)

// sandboxExampleKey is a well-formed key for the sandbox's example curl; any
// mvra_live_ key of 32+ characters works.
const sandboxExampleKey = "mvra_live_sandbox0000000000000000demo"

func newSandboxCmd() *cobra.Command {
	var (
		listen     string
		seed       uint64
		allocation int64
		plan       string
		rateLimit  int
		jobSpeed   float64
	)
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local emulator of the Mavera API, for demos and tests",
		Long: `Run a local emulator of the Mavera API under /api/v1: the same paths, bodies,
status codes, error bodies and X-RateLimit-* headers as the real one. Any well-formed
mvra_live_ key (32+ characters) is an account with a monthly allocation; charges are
drawn from a seeded random source inside the documented ranges, so a run is repeatable.
Assumptions where the API documentation is silent are in client/sandbox/assumptions.go.`,
		Example: `  mavtop sandbox
  mavtop sandbox --listen 127.0.0.1:9000 --seed 7 --allocation 2000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if allocation <= 0 {
				return exitf(2, "--allocation must be a positive number of credits, got %d", allocation)
			}
			if _, ok := sandbox.Plans[plan]; !ok {
				names := make([]string, 0, len(sandbox.Plans))
				for n := range sandbox.Plans {
					names = append(names, n)
				}
				sort.Strings(names)
				return exitf(2, "--plan %q is not one of %s", plan, strings.Join(names, ", "))
			}
			if rateLimit < 0 || jobSpeed <= 0 {
				return exitf(2, "--rate-limit must not be negative and --job-speed must be positive")
			}
			sb := sandbox.New(sandbox.Config{Seed: seed, Plan: plan, Allocation: allocation, RateLimit: rateLimit, JobSpeed: jobSpeed})
			srv, err := sandbox.Listen(listen, sb)
			if err != nil {
				return exitf(1, "%v", err)
			}
			out := cmd.OutOrStdout()
			if !sandbox.IsLoopback(srv.Addr) {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: listening on %s, which is not a loopback address: anyone who can reach it can use the sandbox\n", srv.Addr)
			}
			fmt.Fprintf(out, "Mavera API sandbox on %s\n", srv.BaseURL)
			fmt.Fprintf(out, "seed %d, %s plan, %d credits per account per month\n\n", seed, plan, allocation)
			fmt.Fprintf(out, "Try:\n  curl -s %s/usage -H 'Authorization: Bearer %s'\n", srv.BaseURL, sandboxExampleKey)
			fmt.Fprintf(out, "  curl -s %s/responses -H 'Authorization: Bearer %s' \\\n", srv.BaseURL, sandboxExampleKey)
			fmt.Fprintf(out, "       -H 'Content-Type: application/json' -d '{\"model\":\"mavera-1\",\"input\":\"Hello\"}'\n\n")
			fmt.Fprintf(out, "Point mavtop at it: MAVERA_API_KEY=%s mavtop --api-base %s\n", sandboxExampleKey, srv.BaseURL)
			fmt.Fprintf(out, "Stop with Ctrl+C.\n")

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8787", "address to listen on (loopback by default)")
	f.Uint64Var(&seed, "seed", 1, "random seed for charges, job durations and failures (same seed, same run)")
	f.Int64Var(&allocation, "allocation", 5000, "monthly credits of each account (Professional plan: 5,000)")
	f.StringVar(&plan, "plan", sandbox.DefaultPlan, "plan of new accounts: starter, basic, professional or enterprise (sets the rate limit)")
	nonEmpty(f, "listen", "plan")
	f.IntVar(&rateLimit, "rate-limit", 0, "requests per minute per key (0: the plan's, 240 on Professional)")
	f.Float64Var(&jobSpeed, "job-speed", 1, "divide async job durations by this (10: a 60 s focus group takes 6 s)")
	return cmd
}
