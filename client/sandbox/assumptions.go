package sandbox

// THIS FILE HOLDS EVERY ASSUMPTION the sandbox makes where the Mavera API
// documentation is silent, uncertain or contradictory (the fact sheet marks them
// UNCERTAIN or NOT FOUND). Correct them here when the real behaviour is known; the
// handlers read them from here and nowhere else. The client's matching types
// (client.FocusGroupRequest, client.FocusGroup, JobUsage) must follow a change.

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// Attribution: which workspace and project a call belongs to.
//
// Documented: mave chat, focus groups, brand voices and (feature pages) video
// analyses take a workspace_id in the body; nothing says how /responses or
// /personas are attributed, and projects have no API surface at all.
// Assumed: the body's workspace_id wins; else the X-Mavera-Workspace header (a
// sandbox-only header the mavtop client sends); else DefaultWorkspaceID. The project
// comes from the X-Mavera-Project header. Unknown workspace ids are created on first
// use, drawing from the account's credits.
// ---------------------------------------------------------------------------

const (
	// WorkspaceHeader names the workspace of a call that has no workspace_id field.
	WorkspaceHeader = "X-Mavera-Workspace"
	// ProjectHeader names the project of a call.
	ProjectHeader = "X-Mavera-Project"
	// RequestIDHeader carries the request id on every answer (the API documents no
	// request-id header; the sandbox sends one so the 402 log can show it).
	RequestIDHeader = "X-Request-Id"
	// DefaultWorkspaceID is the workspace of calls that name none.
	DefaultWorkspaceID = "default"
)

// ---------------------------------------------------------------------------
// Keys and accounts.
//
// Documented: keys look like mvra_live_… ("prefix + 32+ chars total"); only live
// keys exist. Assumed: any key of at least MinKeyLength characters, starting with
// KeyPrefix, followed by [A-Za-z0-9_], is an account of its own, created on first
// use on the Professional plan.
// ---------------------------------------------------------------------------

const (
	// KeyPrefix starts every key.
	KeyPrefix = "mvra_live_"
	// MinKeyLength is the shortest well-formed key, prefix included.
	MinKeyLength = 32
)

// Plan is a subscription plan: its monthly credits and requests per minute (both documented).
type Plan struct {
	// Name is starter, basic, professional or enterprise.
	Name string
	// Allocation is the monthly credits.
	Allocation int64
	// RateLimit is requests per minute per key.
	RateLimit int
}

// Plans are the documented plans; Enterprise allocations are custom (shown 50,000).
var Plans = map[string]Plan{
	"starter":      {"starter", 500, 60},
	"basic":        {"basic", 2000, 120},
	"professional": {"professional", 5000, 240},
	"enterprise":   {"enterprise", 50000, 600},
}

// DefaultPlan is the plan of a new account.
const DefaultPlan = "professional"

// ---------------------------------------------------------------------------
// Credit pools, limits and refusals.
//
// Documented: a monthly allocation per account; 402 credits_exhausted when it is
// spent; workspace (and project) usage limits → 402 budget_exceeded; auto-recharge
// adds credits_to_add when credits fall below threshold.
// Assumed:
//   - A workspace either draws from the account's pool or has its own allocation
//     (a pool of its own, with its own auto-recharge). GET /usage reports the whole
//     account: used is every credit charged in any pool, included is the account's
//     allocation plus the workspaces' own allocations.
//   - No overdraft: a call whose charge exceeds what is left in its pool, or would
//     take a workspace or project past its usage limit, is refused whole (402) and
//     charges nothing. Checks run project limit, workspace limit, account limit,
//     then credits.
//   - Auto-recharge fires right after the charge that took the pool below the
//     threshold, once per charge.
//   - Both 402 codes carry type "insufficient_credits" (only credits_exhausted's
//     body is documented).
// ---------------------------------------------------------------------------

// Error types the documentation does not name.
const (
	typeInsufficientCredits = "insufficient_credits"
	typeNotFound            = "invalid_request_error" // 404's type is undocumented
	typeServer              = "api_error"             // 500/503's type is undocumented
	typePermission          = "permission_error"      // 403's type is undocumented
)

// ---------------------------------------------------------------------------
// Asynchronous jobs: focus groups, video analyses, brand voices.
//
// Documented: created, then polled; statuses pending|generating|completed|failed;
// focus groups take 60–90 s (3+ personas × 5 questions), video analyses 2–10 min,
// brand voices are one-time 50 credits. No credits field is documented on any of
// them, nor when they are charged.
// Assumed:
//   - The charge is drawn and reserved at creation: a job that cannot be paid is
//     refused with 402 up front; an accepted job's charge counts as used at once.
//   - The completed object carries usage.credits_used (the charge); a failed job
//     is refunded and shows usage.credits_used 0 (FailRate, default 0).
//   - Status timeline: pending for the first PendingShare of the run, then
//     generating, then completed (or failed).
//   - Concurrency caps (focus groups 5, video analyses 3, per account) are enforced:
//     a creation beyond the cap gets 429 rate_limit_error with code
//     concurrency_limit_exceeded and Retry-After = time until the first running job
//     ends (the docs do not say what happens; 429 is the fact sheet's guess).
//   - Timestamps: focus groups use Unix seconds like video analyses; brand voices
//     ISO-8601 as documented.
// ---------------------------------------------------------------------------

// PendingShare is the part of a job's run spent in status pending.
const PendingShare = 0.1

// Concurrency caps enforced per account (documented values).
var jobCaps = map[string]int{kindFocusGroup: 5, kindVideo: 3}

// jobDuration draws how long a job runs.
func jobDuration(kind string, r *rand.Rand, videoSeconds int) time.Duration {
	switch kind {
	case kindFocusGroup:
		return time.Duration(60+r.IntN(31)) * time.Second
	case kindVideo:
		// 2 minutes plus about 2 s per second of video, at most 10 minutes.
		d := 120 + 2*videoSeconds + r.IntN(30)
		return time.Duration(min(d, 600)) * time.Second
	default: // brand voice
		return time.Duration(15+r.IntN(31)) * time.Second
	}
}

// FocusGroupRequest is the assumed body of POST /focus-groups (the reference page
// was not found): name, workspace_id (documented as required), persona_ids,
// questions [{type, text}], sample_size, stimulus.
type FocusGroupRequest struct {
	Name        string          `json:"name"`
	WorkspaceID string          `json:"workspace_id"`
	PersonaIDs  []string        `json:"persona_ids"`
	Questions   []QuestionInput `json:"questions"`
	SampleSize  int             `json:"sample_size"`
	Stimulus    string          `json:"stimulus,omitempty"`
}

// QuestionInput is one focus-group question; Type is e.g. "nps" or "open_ended".
type QuestionInput struct {
	// Type is the question kind ("nps", "open_ended").
	Type string `json:"type"`
	// Text is the question.
	Text string `json:"text"`
}

// focusGroupObject is the assumed shape of a focus group (POST answer and GET
// /focus-groups/{id}): like a video analysis, object "focus_group".
type focusGroupObject struct {
	ID          string          `json:"id"`
	Object      string          `json:"object"`
	Name        string          `json:"name"`
	WorkspaceID string          `json:"workspace_id"`
	Status      string          `json:"status"`
	SampleSize  int             `json:"sample_size"`
	PersonaIDs  []string        `json:"persona_ids"`
	Questions   []QuestionInput `json:"questions"`
	Stimulus    string          `json:"stimulus,omitempty"`
	Progress    progress        `json:"progress"`
	Results     any             `json:"results"`
	Error       *string         `json:"error"`
	Usage       *creditsUsed    `json:"usage,omitempty"`
	CreatedAt   int64           `json:"created_at"`
	UpdatedAt   int64           `json:"updated_at"`
}

type progress struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
}

// ---------------------------------------------------------------------------
// Other request details.
//
//   - Video length: the API takes no duration. The sandbox reads it from the
//     video_url's "duration" query parameter (…/ad.mp4?duration=45) or a "#t=45"
//     fragment; without either it draws 10–240 s.
//   - Mave complexity: classified from the message length (runes): under 120
//     simple, under 400 moderate, else complex.
//   - Streaming (stream: true) is emulated on POST /responses only: named SSE events
//     response.created (the response in progress, usage null), one
//     response.output_text.delta per word, response.completed carrying the whole
//     response with its usage (the fact sheet marks this UNCERTAIN; OpenAI's
//     Responses API does the same), then "data: [DONE]". The charge and any 402 come
//     before the first event, as a plain JSON answer. Elsewhere stream: true is a 400
//     invalid_field on "stream".
//   - GET /personas' custom-only flag is assumed to be named custom_only.
//   - The billing period is the calendar month in UTC of the sandbox clock (or
//     the month from Config.PeriodStartDay); at its end every counter starts afresh.
//   - Requests refused with 401 or 429 do not count against the rate limit; every
//     other request does, GET /usage included.
// ---------------------------------------------------------------------------

// VideoSecondsFromURL reads a video's length from its URL (see above); ok is false
// when the URL does not say.
func VideoSecondsFromURL(u string) (int, bool) {
	for _, sep := range []string{"?duration=", "&duration=", "#t="} {
		if i := strings.Index(u, sep); i >= 0 {
			n := 0
			digits := 0
			for _, c := range u[i+len(sep):] {
				if c < '0' || c > '9' {
					break
				}
				n = n*10 + int(c-'0')
				digits++
				if n > 1_000_000 {
					break
				}
			}
			if digits > 0 && n > 0 {
				return n, true
			}
		}
	}
	return 0, false
}

// Mave complexity classes by message length.
const (
	maveSimpleBelow   = 120
	maveModerateBelow = 400
)

// MaveComplexity returns "simple", "moderate" or "complex" for a message.
func MaveComplexity(message string) string {
	n := len([]rune(message))
	switch {
	case n < maveSimpleBelow:
		return "simple"
	case n < maveModerateBelow:
		return "moderate"
	}
	return "complex"
}

// ---------------------------------------------------------------------------
// Prices. The ranges are documented; how a charge is drawn inside them is ours.
// A small share of focus groups, videos and complex Mave questions costs slightly
// more than the estimator's upper bound, as real jobs sometimes do (the docs say
// "400+" for long videos and up to 75 for strategic Mave questions), so that
// estimate-vs-actual calibration has something to find. The share is exact: one
// charge in every block of OvershootEvery of an account's charges for that
// operation, at a random place in the block (about 1.6 %), so a calibration over
// 20 or more jobs of an operation always finds the upper bound covering ≥ 95 %.
// ---------------------------------------------------------------------------

// OvershootEvery is the block length: one charge per block lands above the upper bound.
const OvershootEvery = 64

// overshooter decides which charges of one stream land above the upper bound.
type overshooter struct{ n, at int }

// next reports whether the next charge overshoots.
func (o *overshooter) next(r *rand.Rand) bool {
	if o.n%OvershootEvery == 0 {
		o.at = r.IntN(OvershootEvery)
	}
	hit := o.n%OvershootEvery == o.at
	o.n++
	return hit
}

// Fixed prices (documented).
const (
	PersonaPrice    = 300
	BrandVoicePrice = 50
)

// chatPrice: 1–5 credits by tokens: one credit per started 600 tokens, input
// tokens being characters/4 and output tokens drawn 50–900.
func chatPrice(inputChars int, r *rand.Rand) (credits, inTok, outTok int64) {
	inTok = int64(max(1, inputChars/4))
	outTok = int64(50 + r.IntN(851))
	credits = min(5, max(1, (inTok+outTok+599)/600))
	return credits, inTok, outTok
}

// mavePrice: simple 10–15, moderate 20–30, complex 35–50 (an overshooting complex
// one, a "strategic" question, 51–60).
func mavePrice(complexity string, over bool, r *rand.Rand) int64 {
	switch complexity {
	case "simple":
		return 10 + r.Int64N(6)
	case "moderate":
		return 20 + r.Int64N(11)
	}
	if over {
		return 51 + r.Int64N(10)
	}
	return 35 + r.Int64N(16)
}

// focusGroupPrice: a base by sample size (≤ 25: 50–75, ≤ 50: 90–125, more:
// 150–200), higher for larger samples within the class, plus 1–2 credits per
// question. The maximum is the estimator's upper bound (75/125/200 + 2 per
// question); an overshooting one costs up to 8 % more.
func focusGroupPrice(sampleSize, questions int, over bool, r *rand.Rand) int64 {
	var lo, hi float64
	var minSize, maxSize float64
	switch {
	case sampleSize <= 25:
		lo, hi, minSize, maxSize = 50, 75, 1, 25
	case sampleSize <= 50:
		lo, hi, minSize, maxSize = 90, 125, 26, 50
	default:
		lo, hi, minSize, maxSize = 150, 200, 51, 200
	}
	pos := math.Min(1, (float64(sampleSize)-minSize)/math.Max(1, maxSize-minSize))
	base := lo + (hi-lo)*(0.5*pos+0.5*r.Float64())
	price := int64(math.Round(base))
	for q := 0; q < questions; q++ {
		price += 1 + r.Int64N(2)
	}
	upper := int64(hi) + 2*int64(questions)
	price = min(price, upper)
	if over {
		price = upper + 1 + r.Int64N(max(2, upper*8/100))
	}
	return price
}

// videoPrice by length: under 30 s 100–150, 30–59 s 150–250, 60–179 s 250–400,
// 180 s and more 400–600, higher within the band for longer videos.
func videoPrice(seconds int, over bool, r *rand.Rand) int64 {
	var lo, hi, from, to float64
	switch {
	case seconds < 30:
		lo, hi, from, to = 100, 150, 1, 30
	case seconds < 60:
		lo, hi, from, to = 150, 250, 30, 60
	case seconds < 180:
		lo, hi, from, to = 250, 400, 60, 180
	default:
		lo, hi, from, to = 400, 600, 180, 900
	}
	pos := math.Min(1, (float64(seconds)-from)/(to-from))
	price := int64(math.Round(lo + (hi-lo)*(0.6*pos+0.4*r.Float64())))
	price = min(price, int64(hi))
	if over {
		price = int64(hi) + 1 + r.Int64N(int64(hi)*8/100)
	}
	return price
}
