package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"mavtop/estimator"
)

// estimateOutput is the --json form of `mavtop estimate`: one object, parameters
// flattened to the top level so that `jq .estimate` and friends stay short.
type estimateOutput struct {
	// Status is "ok", or "not_affordable" with --remaining too small (exit 3):
	// every --json object says its status (an error's is "error").
	Status     string              `json:"status"`
	Operation  estimator.Operation `json:"operation"`
	SampleSize int                 `json:"sample_size,omitempty"`
	Questions  int                 `json:"questions,omitempty"`
	Seconds    int                 `json:"seconds,omitempty"`
	Low        int64               `json:"low"`
	High       int64               `json:"high"`
	Estimate   int64               `json:"estimate"`
	Buffer     int64               `json:"buffer"`
	Required   int64               `json:"required"`
	Basis      string              `json:"basis"`
	Remaining  *int64              `json:"remaining,omitempty"`
	Affordable *bool               `json:"affordable,omitempty"`
	Message    string              `json:"message,omitempty"`
}

func newEstimateCmd() *cobra.Command {
	var (
		p         estimator.Params
		remaining int64
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "estimate OPERATION",
		Short: "Price a job and check it against the credits remaining (pre-flight)",
		Long:  estimateHelp(),
		Example: `  mavtop estimate mave-complex
  mavtop estimate video --seconds 95 --remaining 420
  mavtop estimate focus-group --sample-size 40 --questions 6 --remaining 150 --json`,
		ValidArgs: operationNames(),
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitf(2, "estimate takes one OPERATION (one of: %s), got %d arguments", estimator.OperationNames(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			op, err := estimator.ParseOperation(args[0])
			if err != nil {
				return exitf(2, "%v", err)
			}
			if err := checkEstimateFlags(cmd, op); err != nil {
				return err
			}
			q, err := estimator.Estimate(op, p)
			if err != nil {
				return exitf(2, "%v", err)
			}
			out := estimateOutput{
				Operation: q.Op, SampleSize: p.SampleSize, Questions: p.Questions, Seconds: p.Seconds,
				Low: q.Low, High: q.High, Estimate: q.Estimate, Buffer: q.Buffer, Required: q.Required, Basis: q.Basis,
			}
			if cmd.Flags().Changed("remaining") {
				if remaining < 0 {
					return exitf(2, "--remaining must not be negative, got %d", remaining)
				}
				ok, msg := estimator.Verdict(q, remaining)
				out.Remaining, out.Affordable, out.Message = &remaining, &ok, msg
			}
			if err := writeEstimate(cmd.OutOrStdout(), out, asJSON); err != nil {
				return exitf(1, "write output: %v", err)
			}
			if out.Affordable != nil && !*out.Affordable {
				return exitf(3, "") // the verdict is already on stdout; main prints no empty message
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&p.SampleSize, string(estimator.ParamSampleSize), 0, fmt.Sprintf("focus group respondents (1–%d)", estimator.MaxSampleSize))
	f.IntVar(&p.Questions, string(estimator.ParamQuestions), 0, fmt.Sprintf("focus group questions (1–%d)", estimator.MaxQuestions))
	f.IntVar(&p.Seconds, string(estimator.ParamSeconds), 0, fmt.Sprintf("video length in seconds, rounded up (1–%d)", estimator.MaxSeconds))
	f.Int64Var(&remaining, "remaining", 0, "credits remaining; adds the affordability verdict")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of text")
	return cmd
}

// checkEstimateFlags reports, all at once, the parameter flags op needs but did not
// get and those it was given but does not take.
func checkEstimateFlags(cmd *cobra.Command, op estimator.Operation) error {
	var missing, extra []string
	for _, param := range []estimator.Param{estimator.ParamSampleSize, estimator.ParamQuestions, estimator.ParamSeconds} {
		given := cmd.Flags().Changed(string(param))
		switch {
		case op.Takes(param) && !given:
			missing = append(missing, "--"+string(param)+" N")
		case !op.Takes(param) && given:
			extra = append(extra, "--"+string(param))
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%s needs %s", op, strings.Join(missing, " and ")))
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%s takes no %s", op, strings.Join(extra, " or ")))
	}
	if len(problems) > 0 {
		return exitf(2, "%s", strings.Join(problems, "; "))
	}
	return nil
}

// writeEstimate prints the estimate as one JSON object or as aligned text.
func writeEstimate(w io.Writer, out estimateOutput, asJSON bool) error {
	if asJSON {
		out.Status = "ok"
		if out.Affordable != nil && !*out.Affordable {
			out.Status = "not_affordable"
		}
		return json.NewEncoder(w).Encode(out)
	}
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-10s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("operation", "%s", out.Operation)
	line("basis", "%s", out.Basis)
	line("range", "%s credits", estimator.Range{Low: out.Low, High: out.High})
	line("estimate", "%d credits (the upper bound, used for the pre-flight check)", out.Estimate)
	line("buffer", "%d credits (20 %% of the estimate, rounded down)", out.Buffer)
	line("required", "%d credits", out.Required)
	if out.Remaining != nil {
		line("remaining", "%d credits", *out.Remaining)
		verdict := "affordable"
		if !*out.Affordable {
			verdict = "NOT AFFORDABLE"
		}
		line("verdict", "%s: %s", verdict, out.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// estimateHelp is the command's long help, with the price list drawn from estimator/.
func estimateHelp() string {
	var b strings.Builder
	b.WriteString(`Price a Mavera API job before it runs: the cost range, the upper-bound estimate
used for the pre-flight check, the 20 % buffer on top of it, and the credits that
must remain. With --remaining, say whether the job can be afforded.

Operations (credits):
`)
	for _, op := range estimator.Operations() {
		switch op {
		case estimator.FocusGroup:
			fmt.Fprintf(&b, "  %-14s up to base + %d per question; needs --sample-size and --questions\n", op, estimator.PerQuestion)
			for _, c := range estimator.FocusGroupCosts() {
				fmt.Fprintf(&b, "  %-14s   %d–%d respondents: %s (base %d)\n", "", c.MinSampleSize, c.MaxSampleSize, c.Range, c.Base)
			}
		case estimator.Video:
			fmt.Fprintf(&b, "  %-14s by length; needs --seconds\n", op)
			for _, v := range estimator.VideoBands() {
				fmt.Fprintf(&b, "  %-14s   %d–%d s: %s\n", "", v.MinSeconds, v.MaxSeconds-1, v.Range)
			}
		default:
			r, _ := estimator.FixedCost(op)
			fmt.Fprintf(&b, "  %-14s %s\n", op, r)
		}
	}
	b.WriteString("\nExit status: 0 affordable (or no --remaining given), 3 not affordable, 2 bad input.")
	return b.String()
}

// operationNames lists the operations for shell completion.
func operationNames() []string {
	var names []string
	for _, op := range estimator.Operations() {
		names = append(names, string(op))
	}
	return names
}
