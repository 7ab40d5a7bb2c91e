package estimator

import "fmt"

// Range is a credit cost from Low to High, both inclusive.
type Range struct {
	Low  int64 `json:"low"`
	High int64 `json:"high"`
}

// String formats the range as "10–15" (or "300" when Low equals High).
func (r Range) String() string {
	if r.Low == r.High {
		return fmt.Sprint(r.Low)
	}
	return fmt.Sprintf("%d–%d", r.Low, r.High)
}

// Limits on parameters: beyond them an input is almost certainly a typo (a sample
// size in the millions, a length in milliseconds), so Estimate refuses it.
const (
	// MaxSampleSize is the largest focus-group sample size Estimate accepts.
	MaxSampleSize = 10_000
	// MaxQuestions is the largest focus-group question count Estimate accepts.
	MaxQuestions = 100
	// MaxSeconds is the longest video Estimate accepts (4 hours).
	MaxSeconds = 4 * 60 * 60
)

// fixedCosts are the operations whose price does not depend on parameters: the seed's
// CREDIT_ESTIMATES (Pattern 2) and the API's fixed prices (persona 300, brand voice 50,
// persona listing free).
var fixedCosts = map[Operation]Range{
	Chat:         {1, 5},
	MaveSimple:   {10, 15},
	MaveModerate: {20, 30},
	MaveComplex:  {35, 50},
	Persona:      {300, 300},
	BrandVoice:   {50, 50},
	PersonaList:  {0, 0},
}

// FocusGroupCost is one of the seed's focus-group size classes and its prices.
type FocusGroupCost struct {
	// Name is the seed's size class: small, medium or large.
	Name string
	// MinSampleSize and MaxSampleSize are the class's sample sizes (both inclusive).
	MinSampleSize, MaxSampleSize int
	// Range is the seed's CREDIT_ESTIMATES entry for the class; Low is the estimate's low end.
	Range Range
	// Base is estimate_focus_group's base; the upper bound is Base + PerQuestion × questions.
	Base int64
}

// PerQuestion is the credits a focus group's upper bound adds per question
// (the seed's estimate_focus_group).
const PerQuestion = 2

// focusGroupCosts are the seed's focus_group_small/medium/large ranges and the bases of
// its estimate_focus_group, cut at the same sample sizes (≤ 25, ≤ 50, above).
var focusGroupCosts = [...]FocusGroupCost{
	{Name: "small", MinSampleSize: 1, MaxSampleSize: 25, Range: Range{50, 75}, Base: 75},
	{Name: "medium", MinSampleSize: 26, MaxSampleSize: 50, Range: Range{100, 150}, Base: 125},
	{Name: "large", MinSampleSize: 51, MaxSampleSize: MaxSampleSize, Range: Range{150, 250}, Base: 200},
}

// VideoBand is the price of a video of MinSeconds up to (not including) MaxSeconds.
type VideoBand struct {
	// Name is the seed's length class the band belongs to (short, medium, long) or,
	// for the band the seed does not name, a description.
	Name string
	// MinSeconds is the band's shortest length (inclusive).
	MinSeconds int
	// MaxSeconds is the band's end (exclusive); the last band ends after the package's MaxSeconds.
	MaxSeconds int
	// Range is the credits a video in the band costs.
	Range Range
}

// videoBands is THE video price table; nothing else in mavtop prices a video.
//
// It reconciles two sources. The API docs price by length: under 30 s 100–150,
// 30 s–1 min 150–250, 1–3 min 250–400 (another page says ~200–350), 3+ min 400+.
// The seed prices short 100–150, medium 200–350, long 400–600. Reconciled:
//
//   - 1–29 s: 100–150, "short": both sources agree.
//   - 30–59 s: 150–250, the docs' band; the seed has no class between short and medium.
//   - 60–179 s: 200–400, "medium": the union of the docs' 250–400, the other page's
//     ~200–350 and the seed's medium 200–350, so the upper bound covers every source.
//   - 180 s and longer: 400–600, "long": the docs' "400+" capped at the seed's 600.
//
// Edges: the docs' "under 30 s" and "3+ min" fix 30 s and 180 s in the dearer band;
// at 60 s, which both "30 s–1 min" and "1–3 min" include, we also take the dearer
// band, because an estimate is used as an upper bound. Round fractional seconds up.
var videoBands = [...]VideoBand{
	{Name: "short", MinSeconds: 1, MaxSeconds: 30, Range: Range{100, 150}},
	{Name: "30 s–1 min", MinSeconds: 30, MaxSeconds: 60, Range: Range{150, 250}},
	{Name: "medium", MinSeconds: 60, MaxSeconds: 180, Range: Range{200, 400}},
	{Name: "long", MinSeconds: 180, MaxSeconds: MaxSeconds + 1, Range: Range{400, 600}},
}

// FixedCost returns the price of an operation that takes no parameters; ok is false
// for focus groups, videos and unknown operations.
func FixedCost(op Operation) (r Range, ok bool) {
	r, ok = fixedCosts[op]
	return r, ok
}

// FocusGroupCosts returns the focus-group size classes, smallest first.
func FocusGroupCosts() []FocusGroupCost {
	return append([]FocusGroupCost(nil), focusGroupCosts[:]...)
}

// VideoBands returns the video price table, shortest band first.
func VideoBands() []VideoBand {
	return append([]VideoBand(nil), videoBands[:]...)
}

// focusGroupCost returns the size class of a valid sample size.
func focusGroupCost(sampleSize int) FocusGroupCost {
	for _, c := range focusGroupCosts {
		if sampleSize <= c.MaxSampleSize {
			return c
		}
	}
	return focusGroupCosts[len(focusGroupCosts)-1]
}

// videoBand returns the band of a valid length.
func videoBand(seconds int) VideoBand {
	for _, b := range videoBands {
		if seconds < b.MaxSeconds {
			return b
		}
	}
	return videoBands[len(videoBands)-1]
}
