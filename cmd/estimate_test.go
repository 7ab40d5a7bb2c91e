package cmd

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// runMavtop runs the command line in-process the way main does, returning what it
// printed and the exit code main would use.
func runMavtop(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	code = run(root, args, &errOut)
	return out.String(), errOut.String(), code
}

func TestEstimateJSON(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want map[string]any // JSON numbers decode as float64
		none []string       // fields that must be absent
	}{
		{
			name: "issue example: not affordable",
			args: []string{"estimate", "focus-group", "--sample-size", "40", "--questions", "6", "--remaining", "150", "--json"},
			code: 3,
			want: map[string]any{
				"operation": "focus-group", "sample_size": 40.0, "questions": 6.0,
				"low": 100.0, "high": 137.0, "estimate": 137.0, "buffer": 27.0, "required": 164.0,
				"remaining": 150.0, "affordable": false,
				"message": "Estimated 137 credits (164 with the 20 % buffer); only 150 remaining. Please add credits or reduce sample size / questions.",
			},
		},
		{
			name: "exactly enough",
			args: []string{"estimate", "focus-group", "--sample-size", "40", "--questions", "6", "--remaining", "164", "--json"},
			code: 0,
			want: map[string]any{"estimate": 137.0, "required": 164.0, "remaining": 164.0, "affordable": true,
				"message": "Estimated 137 credits (164 with the 20 % buffer); 164 remaining, 0 to spare."},
		},
		{
			name: "no remaining given",
			args: []string{"estimate", "video", "--seconds", "60", "--json"},
			code: 0,
			want: map[string]any{"operation": "video", "seconds": 60.0, "low": 200.0, "high": 400.0, "estimate": 400.0, "buffer": 80.0, "required": 480.0},
			none: []string{"remaining", "affordable", "message", "sample_size"},
		},
		{
			name: "zero remaining is given, not absent",
			args: []string{"estimate", "chat", "--remaining", "0", "--json"},
			code: 3,
			want: map[string]any{"operation": "chat", "estimate": 5.0, "buffer": 1.0, "required": 6.0, "remaining": 0.0, "affordable": false},
		},
		{
			name: "free operation with nothing left",
			args: []string{"estimate", "persona-list", "--remaining", "0", "--json"},
			code: 0,
			want: map[string]any{"estimate": 0.0, "required": 0.0, "affordable": true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runMavtop(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr %q, want nothing", stderr)
			}
			if strings.Count(stdout, "\n") != 1 {
				t.Errorf("want one JSON line, got %q", stdout)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
			for _, k := range tt.none {
				if _, ok := got[k]; ok {
					t.Errorf("%s present: %v", k, got[k])
				}
			}
		})
	}
}

func TestEstimateText(t *testing.T) {
	stdout, stderr, code := runMavtop(t, "estimate", "focus-group", "--sample-size", "40", "--questions", "6", "--remaining", "150")
	if code != 3 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 3 and nothing", code, stderr)
	}
	want := `operation  focus-group
basis      medium focus group (26–50 respondents): 125 + 2 × 6 questions
range      100–137 credits
estimate   137 credits (the upper bound, used for the pre-flight check)
buffer     27 credits (20 % of the estimate, rounded down)
required   164 credits
remaining  150 credits
verdict    NOT AFFORDABLE: Estimated 137 credits (164 with the 20 % buffer); only 150 remaining. Please add credits or reduce sample size / questions.
`
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}

	stdout, _, code = runMavtop(t, "estimate", "mave-complex")
	if code != 0 || !strings.Contains(stdout, "range      35–50 credits\n") || strings.Contains(stdout, "verdict") {
		t.Errorf("exit %d, stdout\n%s", code, stdout)
	}
	stdout, _, code = runMavtop(t, "estimate", "brand-voice", "--remaining", "60")
	if code != 0 || !strings.Contains(stdout, "verdict    affordable: Estimated 50 credits (60 with the 20 % buffer); 60 remaining, 0 to spare.\n") {
		t.Errorf("exit %d, stdout\n%s", code, stdout)
	}
}

func TestEstimateBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"unknown operation", []string{"estimate", "focus", "--json"}, []string{`unknown operation "focus"`, "chat, mave-simple, mave-moderate, mave-complex, focus-group, video, persona, brand-voice, persona-list"}},
		{"no operation", []string{"estimate"}, []string{"estimate takes one OPERATION (one of: chat,"}},
		{"two operations", []string{"estimate", "chat", "video"}, []string{"got 2 arguments"}},
		{"focus group without sample size", []string{"estimate", "focus-group", "--questions", "5"}, []string{"focus-group needs --sample-size N"}},
		{"focus group without anything", []string{"estimate", "focus-group"}, []string{"focus-group needs --sample-size N and --questions N"}},
		{"zero questions", []string{"estimate", "focus-group", "--sample-size", "10", "--questions", "0"}, []string{"questions must be at least 1, got 0"}},
		{"negative sample size", []string{"estimate", "focus-group", "--sample-size", "-3", "--questions", "2"}, []string{"sample size must be at least 1, got -3"}},
		{"sample size too large", []string{"estimate", "focus-group", "--sample-size", "20000", "--questions", "2"}, []string{"sample size must be at most 10000"}},
		{"video without seconds", []string{"estimate", "video"}, []string{"video needs --seconds N"}},
		{"video of zero seconds", []string{"estimate", "video", "--seconds", "0"}, []string{"at least 1, got 0"}},
		{"flag the operation does not take", []string{"estimate", "chat", "--seconds", "30"}, []string{"chat takes no --seconds"}},
		{"zero-valued flag the operation does not take", []string{"estimate", "persona", "--sample-size", "0"}, []string{"persona takes no --sample-size"}},
		{"negative remaining", []string{"estimate", "chat", "--remaining", "-1"}, []string{"--remaining must not be negative, got -1"}},
		{"not a number", []string{"estimate", "chat", "--remaining", "lots"}, []string{`invalid argument "lots" for "--remaining"`}},
		{"unknown flag", []string{"estimate", "chat", "--budget", "5"}, []string{"unknown flag: --budget"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runMavtop(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if slices.Contains(tt.args, "--json") {
				stdout = jsonErrorOf(t, stdout, 2) // one object (TestEveryJSONErrorIsOneObject)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
		})
	}
}
