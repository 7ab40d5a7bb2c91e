package estimator_test

import (
	"strings"
	"testing"

	"mavtop/estimator"
)

func TestEstimateFocusGroup(t *testing.T) {
	tests := []struct {
		name                   string
		sampleSize, questions  int
		low, high, buf, needed int64
	}{
		{"smallest", 1, 1, 50, 77, 15, 92},
		{"small edge 25", 25, 1, 50, 77, 15, 92},
		{"medium edge 26", 26, 1, 100, 127, 25, 152},
		{"issue example 40×6", 40, 6, 100, 137, 27, 164},
		{"medium edge 50", 50, 5, 100, 135, 27, 162},
		{"large edge 51", 51, 5, 150, 210, 42, 252},
		{"largest", estimator.MaxSampleSize, estimator.MaxQuestions, 150, 400, 80, 480},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := estimator.Estimate(estimator.FocusGroup, estimator.Params{SampleSize: tt.sampleSize, Questions: tt.questions})
			if err != nil {
				t.Fatal(err)
			}
			if q.Op != estimator.FocusGroup || q.Low != tt.low || q.High != tt.high || q.Estimate != tt.high || q.Buffer != tt.buf || q.Required != tt.needed {
				t.Errorf("got %+v, want low %d high=estimate %d buffer %d required %d", q, tt.low, tt.high, tt.buf, tt.needed)
			}
		})
	}
}

func TestEstimateFocusGroupBasis(t *testing.T) {
	q, err := estimator.Estimate(estimator.FocusGroup, estimator.Params{SampleSize: 40, Questions: 6})
	if err != nil {
		t.Fatal(err)
	}
	if want := "medium focus group (26–50 respondents): 125 + 2 × 6 questions"; q.Basis != want {
		t.Errorf("basis %q, want %q", q.Basis, want)
	}
}

func TestEstimateVideo(t *testing.T) {
	tests := []struct {
		seconds   int
		low, high int64
		band      string
	}{
		{1, 100, 150, "short"},
		{29, 100, 150, "short"},
		{30, 150, 250, "30 s–1 min"},
		{31, 150, 250, "30 s–1 min"},
		{59, 150, 250, "30 s–1 min"},
		{60, 200, 400, "medium"},
		{61, 200, 400, "medium"},
		{179, 200, 400, "medium"},
		{180, 400, 600, "long"},
		{181, 400, 600, "long"},
		{estimator.MaxSeconds, 400, 600, "long"},
	}
	for _, tt := range tests {
		q, err := estimator.Estimate(estimator.Video, estimator.Params{Seconds: tt.seconds})
		if err != nil {
			t.Fatalf("%d s: %v", tt.seconds, err)
		}
		if q.Low != tt.low || q.High != tt.high || q.Estimate != tt.high || q.Buffer != tt.high/5 || q.Required != tt.high+tt.high/5 {
			t.Errorf("%d s: got %+v, want %d–%d", tt.seconds, q, tt.low, tt.high)
		}
		if !strings.Contains(q.Basis, tt.band+" band") {
			t.Errorf("%d s: basis %q does not name the %q band", tt.seconds, q.Basis, tt.band)
		}
	}
}

func TestVideoBandsAreContiguous(t *testing.T) {
	bands := estimator.VideoBands()
	if bands[0].MinSeconds != 1 {
		t.Errorf("first band starts at %d s, want 1", bands[0].MinSeconds)
	}
	for i := 1; i < len(bands); i++ {
		if bands[i].MinSeconds != bands[i-1].MaxSeconds {
			t.Errorf("gap or overlap between %+v and %+v", bands[i-1], bands[i])
		}
		if bands[i].Range.High < bands[i-1].Range.High {
			t.Errorf("a longer video costs less: %+v after %+v", bands[i], bands[i-1])
		}
	}
	if last := bands[len(bands)-1]; last.MaxSeconds <= estimator.MaxSeconds {
		t.Errorf("last band ends at %d s, before MaxSeconds %d", last.MaxSeconds, estimator.MaxSeconds)
	}
}

func TestEstimateFixed(t *testing.T) {
	tests := []struct {
		op                     estimator.Operation
		low, high, buf, needed int64
	}{
		{estimator.Chat, 1, 5, 1, 6},
		{estimator.MaveSimple, 10, 15, 3, 18},
		{estimator.MaveModerate, 20, 30, 6, 36},
		{estimator.MaveComplex, 35, 50, 10, 60},
		{estimator.Persona, 300, 300, 60, 360},
		{estimator.BrandVoice, 50, 50, 10, 60},
		{estimator.PersonaList, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		q, err := estimator.Estimate(tt.op, estimator.Params{})
		if err != nil {
			t.Fatalf("%s: %v", tt.op, err)
		}
		if q.Op != tt.op || q.Low != tt.low || q.High != tt.high || q.Estimate != tt.high || q.Buffer != tt.buf || q.Required != tt.needed {
			t.Errorf("%s: got %+v, want %d–%d buffer %d required %d", tt.op, q, tt.low, tt.high, tt.buf, tt.needed)
		}
	}
}

func TestEstimateEveryOperation(t *testing.T) {
	params := map[estimator.Param]int{estimator.ParamSampleSize: 10, estimator.ParamQuestions: 3, estimator.ParamSeconds: 45}
	for _, op := range estimator.Operations() {
		var p estimator.Params
		for _, name := range op.Params() {
			switch name {
			case estimator.ParamSampleSize:
				p.SampleSize = params[name]
			case estimator.ParamQuestions:
				p.Questions = params[name]
			case estimator.ParamSeconds:
				p.Seconds = params[name]
			}
		}
		q, err := estimator.Estimate(op, p)
		if err != nil {
			t.Errorf("%s: %v", op, err)
			continue
		}
		if q.Low > q.High || q.Estimate != q.High || q.Required != q.Estimate+q.Buffer {
			t.Errorf("%s: inconsistent quote %+v", op, q)
		}
		if op.Endpoint() == "" {
			t.Errorf("%s: no endpoint", op)
		}
	}
}

func TestEstimateErrors(t *testing.T) {
	tests := []struct {
		name string
		op   estimator.Operation
		p    estimator.Params
		want []string
	}{
		{"unknown operation", "focus", estimator.Params{}, []string{`unknown operation "focus"`, "chat, mave-simple", "focus-group", "persona-list"}},
		{"empty operation", "", estimator.Params{}, []string{`unknown operation ""`}},
		{"focus group without anything", estimator.FocusGroup, estimator.Params{}, []string{"sample size must be at least 1, got 0", "questions must be at least 1, got 0"}},
		{"focus group zero questions", estimator.FocusGroup, estimator.Params{SampleSize: 10}, []string{"focus-group: questions must be at least 1, got 0"}},
		{"focus group negative sample", estimator.FocusGroup, estimator.Params{SampleSize: -1, Questions: 3}, []string{"sample size must be at least 1, got -1"}},
		{"focus group too large", estimator.FocusGroup, estimator.Params{SampleSize: 10_001, Questions: 3}, []string{"sample size must be at most 10000, got 10001"}},
		{"focus group too many questions", estimator.FocusGroup, estimator.Params{SampleSize: 10, Questions: 101}, []string{"questions must be at most 100, got 101"}},
		{"focus group with seconds", estimator.FocusGroup, estimator.Params{SampleSize: 10, Questions: 3, Seconds: 30}, []string{"takes no seconds (got 30); only video does"}},
		{"video zero seconds", estimator.Video, estimator.Params{}, []string{"video: video length in seconds must be at least 1, got 0"}},
		{"video negative seconds", estimator.Video, estimator.Params{Seconds: -30}, []string{"at least 1, got -30"}},
		{"video too long", estimator.Video, estimator.Params{Seconds: estimator.MaxSeconds + 1}, []string{"at most 14400, got 14401"}},
		{"video with questions", estimator.Video, estimator.Params{Seconds: 30, Questions: 2}, []string{"takes no questions (got 2); only focus-group does"}},
		{"chat with sample size", estimator.Chat, estimator.Params{SampleSize: 5}, []string{"chat: takes no sample-size (got 5)"}},
		{"persona with negative seconds", estimator.Persona, estimator.Params{Seconds: -1}, []string{"persona: takes no seconds (got -1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := estimator.Estimate(tt.op, tt.p)
			if err == nil {
				t.Fatalf("no error, got %+v", q)
			}
			if q != (estimator.Quote{}) {
				t.Errorf("error came with a quote %+v", q)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseOperation(t *testing.T) {
	for _, op := range estimator.Operations() {
		got, err := estimator.ParseOperation(string(op))
		if err != nil || got != op {
			t.Errorf("ParseOperation(%q) = %q, %v", op, got, err)
		}
	}
	for in, want := range map[string]estimator.Operation{" Focus_Group ": estimator.FocusGroup, "mave_simple": estimator.MaveSimple, "VIDEO": estimator.Video} {
		if got, err := estimator.ParseOperation(in); err != nil || got != want {
			t.Errorf("ParseOperation(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "focus", "focus-group-large", "video_short"} {
		got, err := estimator.ParseOperation(bad)
		if err == nil || got != "" {
			t.Errorf("ParseOperation(%q) = %q, %v; want an error", bad, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "valid: chat, mave-simple, mave-moderate, mave-complex, focus-group, video, persona, brand-voice, persona-list") {
			t.Errorf("ParseOperation(%q) error %q does not list the operations", bad, err)
		}
	}
}

func TestOperationsIsACopy(t *testing.T) {
	ops := estimator.Operations()
	ops[0] = "tampered"
	if estimator.Operations()[0] != estimator.Chat {
		t.Error("Operations returned the package's own array")
	}
}
