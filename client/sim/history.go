package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"mavtop/client/sandbox"
	"mavtop/estimator"
	"mavtop/model"
)

// HistoryWindow is how much of the past History writes call by call: the burn
// windows and charts reach back this far, so they are plausible from the first
// frame. Earlier days of the period are written as daily totals.
const HistoryWindow = time.Hour

// msgCreditsExhausted is the sandbox's credits_exhausted message, so the
// history's refusals read like the live ones.
const msgCreditsExhausted = "You have run out of credits. Upgrade your plan, add credits in Settings > Billing, or wait for your credits to reset."

// History returns the usage events that bring the workspaces to where they stand
// when a demo starts at now in billing period p, oldest first:
//
//   - the last HistoryWindow call by call, at the workspace's rate × pace on its
//     spending cycle, with prices drawn from the cost table's ranges;
//   - a workspace that ran out (RanOutAgo) refused with 402 credits_exhausted
//     since then, call by call, backing off as its application does;
//   - the rest of Used as daily totals per project and endpoint over the earlier
//     days of the period (weekends quieter), so the counters reach Used exactly.
//
// The same seed gives the same history. It fails when a workspace's Used (or a
// project's) is smaller than what its last hour spends at that pace.
func History(wss []Workspace, p model.Period, now time.Time, pace float64, seed uint64) ([]model.Event, error) {
	var evs []model.Event
	for _, w := range wss {
		h, err := history(w, p, now, pace, seed)
		if err != nil {
			return nil, err
		}
		evs = append(evs, h...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].TS < evs[j].TS })
	return evs, nil
}

// PastOf returns the history as the sandbox records it (sandbox.RecordPast), so
// that the API's pools and GET /usage agree with the counters.
func PastOf(evs []model.Event) []sandbox.Past {
	out := make([]sandbox.Past, 0, len(evs))
	for _, e := range evs {
		switch {
		case e.Kind == model.KindRecharge:
			out = append(out, sandbox.Past{Workspace: e.Workspace, Recharged: e.Credits})
		case e.Kind != model.KindUsage:
		case e.Refused():
			out = append(out, sandbox.Past{Workspace: e.Workspace, Project: e.Project, Endpoint: e.Endpoint, Refused: e.Code})
		case e.Credits > 0:
			out = append(out, sandbox.Past{Workspace: e.Workspace, Project: e.Project, Endpoint: e.Endpoint, Credits: e.Credits})
		}
	}
	return out
}

// msgBudgetExceeded is the sandbox's refusal of a call of project, which is
// at its usage limit.
func msgBudgetExceeded(w Workspace, project string) string {
	for _, p := range w.Projects {
		if p.Name == project {
			return fmt.Sprintf("Budget exceeded: project %q in workspace %q has reached its usage limit of %d credits (%d used). Raise the project's limit in Workspace Settings > Budget.", project, w.Name, p.UsageLimit, p.Used)
		}
	}
	return ""
}

// cell is a project and endpoint: where daily totals are booked.
type cell struct{ project, endpoint string }

func history(w Workspace, p model.Period, now time.Time, pace float64, seed uint64) ([]model.Event, error) {
	r := rand.New(rand.NewPCG(seed, hash(w.Name+"/history")))
	rate := w.Rate * pace
	var total float64
	for _, s := range w.Mix {
		total += s.Weight
	}
	from := now.Add(-HistoryWindow)
	var outAt time.Time
	if w.RanOutAgo > 0 {
		outAt = now.Add(-w.RanOutAgo)
		if outAt.Before(from) {
			from = outAt
		}
	}
	if from.Before(p.Start) {
		from = p.Start
	}
	limitAt := map[string]time.Time{} // when a project reached its usage limit
	for _, pr := range w.Projects {
		if pr.LimitAgo > 0 {
			limitAt[pr.Name] = now.Add(-pr.LimitAgo)
		}
	}
	var evs []model.Event
	recent := map[string]int64{} // credits per project in the call-by-call part
	var recentTotal int64
	if rate > 0 && len(w.Mix) > 0 {
		for t := from.Add(nextArrival(r, w.Name, rate, from)); t.Before(now); t = t.Add(nextArrival(r, w.Name, rate, t)) {
			op := pickOp(r, w.Mix, total)
			project := pickProject(r, w.Projects)
			op = opOf(r, w, project, op)
			e := model.Event{TS: t.UnixMilli(), Workspace: w.Name, Project: project, Endpoint: op.Endpoint(),
				Req: requestID(r), Op: string(op)}
			if !outAt.IsZero() && !t.Before(outAt) {
				e.Status, e.Code, e.Msg, e.Op = 402, model.CodeCreditsExhausted, msgCreditsExhausted, ""
				evs = append(evs, e)
				t = t.Add(5 * time.Second) // the application backs off (Config.Backoff)
				continue
			}
			if at, ok := limitAt[project]; ok && !t.Before(at) {
				e.Status, e.Code, e.Op = 402, model.CodeBudgetExceeded, ""
				e.Msg = msgBudgetExceeded(w, project)
				evs = append(evs, e)
				t = t.Add(5 * time.Second)
				continue
			}
			q := quote(r, op)
			e.Credits, e.Est, e.Status = q.Low+r.Int64N(q.High-q.Low+1), q.Estimate, 200
			if isJob(op) {
				e.Status = 201
			}
			evs = append(evs, e)
			recent[project] += e.Credits
			recentTotal += e.Credits
		}
	}
	earlier := w.Used - recentTotal
	if earlier < 0 {
		return nil, fmt.Errorf("sim: %s used %d before the demo, but its last hour alone spends %d at this pace", w.Name, w.Used, recentTotal)
	}
	// what each project spent on the earlier days
	perProject := map[string]int64{}
	var free []string
	rest := earlier
	for _, pr := range w.Projects {
		if pr.Used > 0 {
			n := pr.Used - recent[pr.Name]
			if n < 0 || n > rest {
				return nil, fmt.Errorf("sim: %s/%s used %d before the demo, which does not fit its last hour (%d) and the workspace's %d", w.Name, pr.Name, pr.Used, recent[pr.Name], w.Used)
			}
			perProject[pr.Name] = n
			rest -= n
		} else {
			free = append(free, pr.Name)
		}
	}
	if len(free) == 0 {
		free = []string{""}
	}
	for i, n := range split(rest, len(free), nil) {
		perProject[free[i]] += n
	}
	end := from
	var days []time.Time
	var dayWeights []float64
	for d := p.Start; d.Before(end); d = d.Add(24 * time.Hour) {
		dayEnd := d.Add(24 * time.Hour)
		if end.Before(dayEnd) {
			dayEnd = end
		}
		span := dayEnd.Sub(d)
		weight := span.Hours() * (0.85 + 0.3*r.Float64())
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weight *= 0.5
		}
		days = append(days, d.Add(span/2))
		dayWeights = append(dayWeights, weight)
	}
	var daily []model.Event
	projects := make([]string, 0, len(perProject))
	for pr := range perProject {
		projects = append(projects, pr)
	}
	sort.Strings(projects)
	for _, pr := range projects {
		n := perProject[pr]
		if n == 0 {
			continue
		}
		if len(days) == 0 {
			return nil, fmt.Errorf("sim: %s has %d credits to place before the last hour, but the period started %s", w.Name, n, p.Start.Format(time.RFC3339))
		}
		// on which endpoints: the project's mix's expected credits
		mix, _ := projectMix(w, pr)
		endpoints, weights := endpointShares(mix)
		for i, perDay := range split(n, len(days), dayWeights) {
			for j, c := range split(perDay, len(endpoints), weights) {
				if c > 0 {
					daily = append(daily, model.Event{TS: days[i].UnixMilli(), Workspace: w.Name, Project: pr,
						Endpoint: endpoints[j], Credits: c, Status: 200})
				}
			}
		}
	}
	return append(daily, evs...), nil
}

// endpointShares is the endpoints mix calls, in the mix's order, each
// weighed by the credits the mix is expected to spend there.
func endpointShares(mix []Share) ([]string, []float64) {
	shares := map[string]float64{}
	var endpoints []string
	for _, s := range mix {
		ep := s.Op.Endpoint()
		if _, ok := shares[ep]; !ok {
			endpoints = append(endpoints, ep)
		}
		shares[ep] += s.Weight * meanPrice(s.Op)
	}
	weights := make([]float64, len(endpoints))
	for i, ep := range endpoints {
		weights[i] = shares[ep]
	}
	return endpoints, weights
}

// split divides n into k integer parts in proportion to weights (equal parts
// when weights is nil); the parts sum to n exactly.
func split(n int64, k int, weights []float64) []int64 {
	out := make([]int64, k)
	if k == 0 {
		return out
	}
	var sum float64
	for i := range k {
		if weights == nil {
			sum++
		} else {
			sum += weights[i]
		}
	}
	var cum float64
	var given int64
	for i := range k {
		if weights == nil {
			cum++
		} else {
			cum += weights[i]
		}
		upto := int64(math.Round(float64(n) * cum / sum))
		if i == k-1 {
			upto = n
		}
		out[i] = upto - given
		given = upto
	}
	return out
}

// quote prices op for a request drawn as the simulated applications draw theirs.
func quote(r *rand.Rand, op estimator.Operation) estimator.Quote {
	var p estimator.Params
	switch op {
	case estimator.FocusGroup:
		p.SampleSize = focusGroup(r, "x").SampleSize
		p.Questions = 3 + r.IntN(8)
	case estimator.Video:
		_, p.Seconds = video(r, "x", 0)
	}
	q, err := estimator.Estimate(op, p)
	if err != nil || q.High < q.Low {
		return estimator.Quote{Low: 1, High: 1, Estimate: 1}
	}
	return q
}

// meanPrice is the average credits of one op call, as History draws them.
func meanPrice(op estimator.Operation) float64 {
	r := rand.New(rand.NewPCG(1, hash(string(op))))
	var sum float64
	for range 200 {
		q := quote(r, op)
		sum += float64(q.Low+q.High) / 2
	}
	return sum / 200
}

func isJob(op estimator.Operation) bool {
	return op == estimator.FocusGroup || op == estimator.Video || op == estimator.BrandVoice
}

// requestID draws a request id shaped like the sandbox's.
func requestID(r *rand.Rand) string {
	return "req_" + strconv.FormatUint(r.Uint64()|1<<63, 36)
}
