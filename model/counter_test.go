package model

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// parseCounterByFormat is ParseCounter as it was: Redis's form is the one
// strconv.FormatInt writes back.
func parseCounterByFormat(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == s
}

// TestParseCounterTakesRedisFormOnly: ParseCounter takes exactly the values
// FormatInt writes (what HINCRBY keeps incrementing) and refuses every other
// one ParseInt would take ("+5", "05", "-0", "-007"), with the same number.
func TestParseCounterTakesRedisFormOnly(t *testing.T) {
	cases := []string{"0", "-0", "+0", "00", "5", "+5", "05", "-5", "-05", "-007", "10", "100", "-100",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
		"09223372036854775807", "", "-", "+", "1_000", "1e3", " 5", "5 ", "0x10", "١٢"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		n := r.Int64() >> r.IntN(64)
		if r.IntN(2) == 0 {
			n = -n
		}
		s := strconv.FormatInt(n, 10)
		cases = append(cases, s, "0"+s, "+"+s, "-"+s, s[:len(s)/2])
	}
	for _, s := range cases {
		want, ok := parseCounterByFormat(s)
		got, err := ParseCounter(s)
		if (err == nil) != ok || ok && got != want {
			t.Fatalf("ParseCounter(%q) = %d, %v; want %d, ok %v", s, got, err, want, ok)
		}
	}
}

// TestParseCounterAllocatesNothing: a start of 100k workspaces parses 1.3M
// counters.
func TestParseCounterAllocatesNothing(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { _, _ = ParseCounter("123456789") }); a != 0 {
		t.Fatalf("%v allocations a counter, want 0", a)
	}
}
