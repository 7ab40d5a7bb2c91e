package feed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// BenchmarkClaimAlerts is claiming 1,000 firings of one period on a real
// redis-server, as a watcher's first judgement at 100k workspaces claims
// ~44k: one Claim (a WATCH/MULTI transaction, five round trips) each, or
// ClaimAll (one transaction per ClaimBatch). An op is the 1,000 claims, on
// a hash emptied before each (untimed).
//
//	go test ./feed -run '^$' -bench ClaimAlerts -benchmem
func BenchmarkClaimAlerts(b *testing.B) {
	const n = 1_000
	srv := feedtest.Start(b)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	expire := ExpireAt(model.MonthlyUTC.At(at))
	reqs := make([]ClaimRequest, n)
	for i := range reqs {
		ws := fmt.Sprintf("ws-%06d", i)
		a := model.Alert{ID: model.AlertID("2026-11", ws, "", model.AlertThreshold, "75"), Period: "2026-11",
			Workspace: ws, Kind: model.AlertThreshold, Threshold: 75, Used: 760, Cap: 1000}
		reqs[i] = ClaimRequest{Transition: model.AlertTransition{Alert: a, Status: model.AlertFiring, At: at, Stream: "1-0"},
			Summary: "ws crossed 75 %", Options: ClaimOptions{Expire: expire}}
	}
	st := NewAlertStore(srv.Client(), "")
	for _, how := range []string{"one-by-one", "batched"} {
		b.Run(how, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				if err := srv.Client().Del(ctx, Keys{}.Alerts("2026-11"), Keys{}.AlertChanges("2026-11")).Err(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				claimed := 0
				if how == "batched" {
					ok, err := st.ClaimAll(ctx, reqs)
					if err != nil {
						b.Fatal(err)
					}
					for _, c := range ok {
						if c {
							claimed++
						}
					}
				} else {
					for i := range reqs {
						ok, err := st.Claim(ctx, reqs[i].Transition, reqs[i].Summary, reqs[i].Options)
						if err != nil {
							b.Fatal(err)
						}
						if ok {
							claimed++
						}
					}
				}
				if claimed != n {
					b.Fatalf("%d of %d claimed", claimed, n)
				}
			}
		})
	}
}
