package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"mavtop/feed"
	"mavtop/model"
)

// TestAlertsJSONIsTheEncodersBytes: `mavtop alerts --json` writes its records
// one at a time (writeAlertsJSON), each decoded again from its stored value,
// and the bytes are those the one json.Encoder (indent "  ") of the whole
// {"status", "period", "alerts", "unreadable"} wrote before: records with deliveries,
// sinks, HTML and control characters in their words, a fire-again time, one
// record alone, and none at all.
func TestAlertsJSONIsTheEncodersBytes(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var recs []feed.StoredAlert
	for i := range 6 {
		id := fmt.Sprintf("2026-11/w%d/-/threshold/75", i)
		r := feed.StoredAlert{AlertRecord: model.AlertRecord{
			Alert:  model.Alert{ID: id, Period: "2026-11", Workspace: fmt.Sprintf("w%d", i), Level: model.LevelHigh, PercentUsed: 76.7 + float64(i)},
			Status: model.AlertFiring, FiredAt: now.Add(time.Duration(i) * time.Minute), FiredStream: "1-0"}}
		if i%2 == 1 {
			r.Status, r.ResolvedAt = model.AlertResolved, now.Add(time.Hour)
		}
		if i > 0 {
			r.Deliveries = []feed.Delivery{{Summary: fmt.Sprintf("w%d <b>&</b> at 76 %%\n\u2028", i), Done: i%3 == 0, Owner: "me",
				Sinks:      map[string]feed.SinkResult{"https://hooks.example.com/x?a=1&b=2": {Result: feed.ResultSent}},
				Transition: model.AlertTransition{Alert: r.Alert, Status: model.AlertFiring, At: r.FiredAt}}}
		}
		recs = append(recs, r)
	}
	for _, n := range []int{0, 1, len(recs)} {
		var rows []alertRow
		for i := range recs[:n] {
			raw, err := json.Marshal(recs[i])
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, newAlertRow(&recs[i], string(raw), true))
		}
		again := fireAgainAt(rows)
		// the encoding before: every record shown, in one Encode
		list := make([]shownRecord, len(rows))
		for i := range rows {
			list[i] = newShownRecord(&recs[i])
			list[i].CanFireAgainAt = again[rows[i].id]
		}
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"status": "ok", "period": "2026-11", "alerts": list, "unreadable": 2}); err != nil {
			t.Fatal(err)
		}
		if err := writeAlertsJSON(&got, "2026-11", rows, again, 2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%d records: got\n%s\nwant\n%s", n, got.Bytes(), want.Bytes())
		}
	}
}
