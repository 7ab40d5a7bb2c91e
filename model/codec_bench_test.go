package model

import "testing"

// BenchmarkDecodeEvent decodes a typical 7-field usage entry as go-redis hands it over.
func BenchmarkDecodeEvent(b *testing.B) {
	m := map[string]any{"v": "1", "ts": "1764072000000", "ws": "acme-prod", "project": "web",
		"endpoint": "/responses", "credits": "3", "status": "200"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEvent("1764072000000-0", m); err != nil {
			b.Fatal(err)
		}
	}
}
