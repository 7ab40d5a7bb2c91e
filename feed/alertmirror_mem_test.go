package feed

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// a run-out alert as a 100k-workspace scale run stores it (most of its
// ~130k records are these)
const sampleStored = `{"alert":{"id":"2026-12/ws-064221/-/run_out/-","kind":"run_out","period":"2026-12","workspace":"ws-064221","used":44,"cap":74221,"cap_kind":"allocation","percent_used":0.05928241333315369,"level":"warn","burn_per_hour":174.32780891735166,"run_out_in_seconds":1531810.68275,"spare_seconds":1122140.683378548},"status":"firing","fired_at":"2026-12-01T06:47:28.633871452Z","fired_stream":"1796107648435-49","deliveries":[{"transition":{"alert":{"id":"2026-12/ws-064221/-/run_out/-","kind":"run_out","period":"2026-12","workspace":"ws-064221","used":44,"cap":74221,"cap_kind":"allocation","percent_used":0.05928241333315369,"level":"warn","burn_per_hour":174.32780891735166,"run_out_in_seconds":1531810.68275,"spare_seconds":1122140.683378548},"status":"firing","at":"2026-12-01T06:47:28.633871452Z","stream":"1796107648435-49"},"summary":"ws-064221 runs out of credits in 17 days at 174 credits/h, 12 days before the billing period ends (at the time: 44 credits used of its 74,221-credit cap)","owner":"host-1:42","sinks":{"slack":{"result":"sent","attempts":1,"at":"2026-12-01T06:47:29Z"}}}]}`

func sampleRecords(n int) (ids, vals []string) {
	ids, vals = make([]string, n), make([]string, n)
	for i := range n {
		ws := fmt.Sprintf("ws-%06d", i)
		ids[i] = "2026-12/" + ws + "/-/run_out/-"
		vals[i] = strings.ReplaceAll(sampleStored, "ws-064221", ws)
	}
	return ids, vals
}

// The mirror's records share the strings a delivery repeats from its
// record (JSON gives each its own) and intern the few words many repeat.
func TestMirrorRecordsShareRepeatedStrings(t *testing.T) {
	m := &AlertMirror{recs: map[string]*StoredAlert{}, seed: maphash.MakeSeed()}
	p := &mirrored{sums: map[string]uint64{}, bad: map[string]bool{}}
	ids, vals := sampleRecords(2)
	for i := range ids {
		m.put(p, ids[i], vals[i], true)
	}
	a, b := m.recs[ids[0]], m.recs[ids[1]]
	if a == nil || b == nil || len(a.Deliveries) != 1 {
		t.Fatalf("records not decoded: %v %v", a, b)
	}
	share := func(what, x, y string) {
		t.Helper()
		if x != y || unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are separate copies", what, x, y)
		}
	}
	d := a.Deliveries[0]
	share("the delivery's alert id", d.Transition.Alert.ID, a.Alert.ID)
	share("the record's id and its field name", a.Alert.ID, ids[0])
	share("the delivery's workspace", d.Transition.Alert.Workspace, a.Alert.Workspace)
	share("the delivery's stream", d.Transition.Stream, a.FiredStream)
	share("the periods of two records", a.Alert.Period, b.Alert.Period)
	share("the kinds of two records", string(a.Alert.Kind), string(b.Alert.Kind))
	share("the statuses of two records", string(a.Status), string(b.Status))
	share("the owners of two records", d.Owner, b.Deliveries[0].Owner)
	for name := range d.Sinks {
		for other := range b.Deliveries[0].Sinks {
			share("the sink names of two records", name, other)
		}
		share("the sink results of two records", d.Sinks[name].Result, b.Deliveries[0].Sinks[name].Result)
	}
}

// BenchmarkMirrorRecordBytes: the live heap each record of the mirror holds
// (B/record), a run-out alert as the 100k-workspace scale run stores them.
func BenchmarkMirrorRecordBytes(b *testing.B) {
	const n = 20_000
	ids, vals := sampleRecords(n)
	for b.Loop() {
		m := &AlertMirror{recs: map[string]*StoredAlert{}, seed: maphash.MakeSeed()}
		p := &mirrored{sums: map[string]uint64{}, bad: map[string]bool{}}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range n {
			m.put(p, ids[i], vals[i], true)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/record")
		runtime.KeepAlive(m)
	}
}

// TestAMirroredRecordFitsItsSizeClass: a stored delivery and a mirrored
// record stay within the allocator's 512- and 480-byte size classes (Go's
// classes run …, 448, 480, 512, 576, …): one word more and each moves up a
// class, ~96 B more for each of the ~170k records the mirror holds at 100k
// workspaces (model.Alert's Condition shares a word with CapKind for it;
// rss16, issue 16).
func TestAMirroredRecordFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Delivery{}); n > 512 {
		t.Errorf("a Delivery is %d bytes: the 576-byte class, not 512", n)
	}
	if n := unsafe.Sizeof(StoredAlert{}); n > 480 {
		t.Errorf("a StoredAlert is %d bytes: the 512-byte class, not 480", n)
	}
}
