package feed

import (
	"fmt"
	"hash/maphash"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"mavtop/model"
)

// a run-out alert as a 100k-workspace scale run stores it (most of its
// ~130k records are these)
const sampleStored = `{"alert":{"id":"2026-12/ws-064221/-/run_out/-","kind":"run_out","period":"2026-12","workspace":"ws-064221","used":44,"cap":74221,"cap_kind":"allocation","percent_used":0.05928241333315369,"level":"warn","burn_per_hour":174.32780891735166,"run_out_in_seconds":1531810.68275,"spare_seconds":1122140.683378548},"status":"firing","fired_at":"2026-12-01T06:47:28.633871452Z","fired_stream":"1796107648435-49","deliveries":[{"transition":{"alert":{"id":"2026-12/ws-064221/-/run_out/-","kind":"run_out","period":"2026-12","workspace":"ws-064221","used":44,"cap":74221,"cap_kind":"allocation","percent_used":0.05928241333315369,"level":"warn","burn_per_hour":174.32780891735166,"run_out_in_seconds":1531810.68275,"spare_seconds":1122140.683378548},"status":"firing","at":"2026-12-01T06:47:28.633871452Z","stream":"1796107648435-49"},"summary":"ws-064221 runs out of credits in 17 days at 174 credits/h, 12 days before the billing period ends (at the time: 44 credits used of its 74,221-credit cap)","owner":"host-1:42","sinks":{"slack":{"result":"sent","attempts":1,"at":"2026-12-01T06:47:29Z"}}}]}`

// the same alert resolved: two deliveries, the resolution's alert not the
// firing's, a sink retrying with an error, a lease
const sampleResolved = `{"alert":{"id":"2026-12/ws-064221/-/threshold/75","kind":"threshold","period":"2026-12","workspace":"ws-064221","threshold":75,"used":50000,"cap":74221,"cap_kind":"allocation","percent_used":0.67,"level":"warn"},"status":"resolved","fired_at":"2026-12-01T06:47:28.633871452Z","resolved_at":"2026-12-01T07:00:00.5Z","fired_stream":"1796107648435-49","resolved_stream":"1796107648999-0","deliveries":[{"transition":{"alert":{"id":"2026-12/ws-064221/-/threshold/75","kind":"threshold","period":"2026-12","workspace":"ws-064221","threshold":75,"used":56000,"cap":74221,"cap_kind":"allocation","percent_used":0.75,"level":"warn"},"status":"firing","at":"2026-12-01T06:47:28.633871452Z","stream":"1796107648435-49"},"summary":"ws-064221 crossed 75 %","done":true,"owner":"host-1:42","sinks":{"slack":{"result":"sent","attempts":1,"at":"2026-12-01T06:47:29Z"},"pagerduty":{"result":"failed","attempts":5,"err":"404 Not Found","at":"2026-12-01T06:50:29Z"}}},{"transition":{"alert":{"id":"2026-12/ws-064221/-/threshold/75","kind":"threshold","period":"2026-12","workspace":"ws-064221","threshold":75,"used":50000,"cap":74221,"cap_kind":"allocation","percent_used":0.67,"level":"warn"},"status":"resolved","at":"2026-12-01T07:00:00.5Z","stream":"1796107648999-0","removed":true,"why":"the default thresholds"},"summary":"ws-064221 back under 75 %","owner":"host-2:7","lease_until":"2026-12-01T07:01:00Z","sinks":{"slack":{"result":"retrying","attempts":2,"err":"503 Service Unavailable","at":"2026-12-01T07:00:30Z"}}}]}`

// the harness's records: no sink, nobody delivering
const sampleWaiting = `{"alert":{"id":"2026-12/ws-000017/-/run_out/-","kind":"run_out","period":"2026-12","workspace":"ws-000017","used":44,"cap":74221,"cap_kind":"allocation","percent_used":0.05928241333315369,"level":"warn","burn_per_hour":174.32780891735166,"run_out_in_seconds":1531810.68275,"spare_seconds":1122140.683378548},"status":"firing","fired_at":"2026-12-01T06:47:28.633871452Z","fired_stream":"1796107648435-49","deliveries":[{"transition":{"alert":{"id":"2026-12/ws-000017/-/run_out/-","kind":"run_out","period":"2026-12","workspace":"ws-000017","used":44,"cap":74221,"cap_kind":"allocation","percent_used":0.05928241333315369,"level":"warn","burn_per_hour":174.32780891735166,"run_out_in_seconds":1531810.68275,"spare_seconds":1122140.683378548},"status":"firing","at":"2026-12-01T06:47:28.633871452Z","stream":"1796107648435-49"},"summary":"ws-000017 runs out of credits in 17 days at 174 credits/h, 12 days before the billing period ends (at the time: 44 credits used of its 74,221-credit cap)"}]}`

func sampleRecords(n int) (ids, vals []string) {
	ids, vals = make([]string, n), make([]string, n)
	for i := range n {
		ws := fmt.Sprintf("ws-%06d", i)
		ids[i] = "2026-12/" + ws + "/-/run_out/-"
		vals[i] = strings.ReplaceAll(sampleStored, "ws-064221", ws)
	}
	return ids, vals
}

// A packed record decodes to the record, field for field (JSON's decoding
// of the stored value), in a few hundred bytes: not kept decoded.
func TestPackedRecordsDecodeAsStored(t *testing.T) {
	for v, most := range map[string]int{sampleStored: 400, sampleResolved: 700, sampleWaiting: 400} {
		rec, ok := decodeAlert(firstID(v), v)
		if !ok {
			t.Fatalf("sample does not decode: %s", v)
		}
		p := Pack(&rec)
		if p.full != nil {
			t.Errorf("%s: kept decoded, not packed", rec.Alert.ID)
		}
		if got := p.Decode(); !reflect.DeepEqual(got, &rec) {
			t.Errorf("%s: decodes to\n%+v\nwant\n%+v", rec.Alert.ID, got, rec)
		}
		if got, ok := p.Record(); !ok || !reflect.DeepEqual(got, rec.AlertRecord) {
			t.Errorf("%s: its lifecycle decodes to\n%+v\nwant\n%+v", rec.Alert.ID, got, rec.AlertRecord)
		}
		if n := p.Bytes(); n > most {
			t.Errorf("%s: packed in %d bytes, want ≤ %d", rec.Alert.ID, n, most)
		}
	}
	// what cannot be given back exactly is kept decoded
	odd := StoredAlert{AlertRecord: model.AlertRecord{Alert: model.Alert{ID: "x"}, FiredAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.FixedZone("X", 3600))}}
	if p := Pack(&odd); p.full != &odd || !reflect.DeepEqual(p.Decode(), &odd) {
		t.Errorf("a time in another zone: packed %q, want it kept decoded", p.s)
	}
	if p := Pack(nil); !p.IsZero() || p.Decode() != nil {
		t.Errorf("no record: %+v", p)
	}
	if _, ok := (PackedAlert{}).Record(); ok {
		t.Error("the zero PackedAlert has a record")
	}
}

func firstID(v string) string {
	_, rest, _ := strings.Cut(v, `"id":"`)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// mirrorBytes is the live heap n sample records of the mirror hold, by
// record.
func mirrorBytes(n int) float64 {
	ids, vals := sampleRecords(n)
	m := &AlertMirror{recs: map[string]PackedAlert{}, seed: maphash.MakeSeed()}
	p := &mirrored{sums: map[string]uint64{}, bad: map[string]bool{}}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		m.put(p, ids[i], vals[i], true)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	runtime.KeepAlive(p)
	runtime.KeepAlive(ids)
	runtime.KeepAlive(vals)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
}

// TestMirrorRecordBytes guards the live heap of a mirrored record (its
// packed bytes, its slots in the records and hashes maps): ~0.4 KB, where a
// decoded one held ~1.1 KB (2 KB with an owner and a sink) at 100k
// workspaces' ~170k records (rss16, issue 16).
func TestMirrorRecordBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 20k records")
	}
	if b := mirrorBytes(20_000); b > 600 {
		t.Errorf("%.0f B a mirrored record, want ≤ 600 (a decoded one held ~2,000)", b)
	}
}

// BenchmarkMirrorRecordBytes: the live heap each record of the mirror holds
// (B/record), a run-out alert as the 100k-workspace scale run stores them
// (with an owner and a sink).
func BenchmarkMirrorRecordBytes(b *testing.B) {
	for b.Loop() {
		b.ReportMetric(mirrorBytes(20_000), "B/record")
	}
}

// TestAMirroredRecordFitsItsSizeClass: a stored delivery and a decoded
// record stay within the allocator's 512- and 480-byte size classes (Go's
// classes run …, 448, 480, 512, 576, …): one word more and each moves up a
// class, ~96 B more for each record decoded (model.Alert's Condition
// shares a word with CapKind for it; rss16, issue 16).
func TestAMirroredRecordFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Delivery{}); n > 512 {
		t.Errorf("a Delivery is %d bytes: the 576-byte class, not 512", n)
	}
	if n := unsafe.Sizeof(StoredAlert{}); n > 480 {
		t.Errorf("a StoredAlert is %d bytes: the 512-byte class, not 480", n)
	}
}
