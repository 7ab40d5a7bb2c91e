package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"mavtop/client"
	"mavtop/estimator"
)

// The requests simulated applications send. Sizes are drawn so that the sandbox
// prices them the way the application expects (assumptions.go: Mave complexity by
// message length, video length from the URL).

var topics = []string{"refill packs", "the new pricing page", "our loyalty app", "eco packaging",
	"the spring campaign", "subscription bundles", "in-store pickup", "the onboarding email"}

var audiences = []string{"Gen Z shoppers", "millennial parents", "IT decision makers", "retirees", "small-business owners"}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chatInput is 50–4,000 characters of prompt.
func chatInput(r *rand.Rand) string {
	n := 50 + r.IntN(3951)
	base := fmt.Sprintf("Summarise what %s say about %s. ", pick(r, audiences), pick(r, topics))
	return pad(base, n)
}

// maveMessage is a question whose length the sandbox classifies as op's complexity.
func maveMessage(r *rand.Rand, op estimator.Operation) string {
	q := fmt.Sprintf("What do %s think of %s?", pick(r, audiences), pick(r, topics))
	switch op {
	case estimator.MaveSimple:
		return q // well under 120 characters
	case estimator.MaveModerate:
		return pad(q+" Compare with last quarter and list the main drivers. ", 150+r.IntN(200))
	}
	return pad(q+" Build a full strategy: segments, messaging, channels, risks, a test plan and a budget split. ", 450+r.IntN(600))
}

// pad repeats s up to n characters.
func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat(s, n/len(s)+1)[:n]
}

// focusGroup draws a focus group: mostly small, some medium, a few large.
func focusGroup(r *rand.Rand, ws string) client.FocusGroupRequest {
	var size int
	switch x := r.Float64(); {
	case x < 0.5:
		size = 10 + r.IntN(16)
	case x < 0.8:
		size = 26 + r.IntN(25)
	default:
		size = 51 + r.IntN(70)
	}
	req := client.FocusGroupRequest{
		Name: "Reaction to " + pick(r, topics), WorkspaceID: ws, SampleSize: size,
		PersonaIDs: []string{"clxp0000000000000000000001", "clxp0000000000000000000002", "clxp0000000000000000000005"},
		Stimulus:   "Subject: Meet the new " + pick(r, topics),
	}
	for q, n := 0, 3+r.IntN(8); q < n; q++ {
		kind := "open_ended"
		if q == 0 {
			kind = "nps"
		}
		req.Questions = append(req.Questions, client.FocusGroupQuestion{Type: kind, Text: fmt.Sprintf("Question %d about %s?", q+1, pick(r, topics))})
	}
	return req
}

// video draws a video analysis and its length in seconds.
func video(r *rand.Rand, ws string, n int64) (client.VideoAnalysisRequest, int) {
	var secs int
	switch x := r.Float64(); {
	case x < 0.2:
		secs = 10 + r.IntN(20)
	case x < 0.5:
		secs = 30 + r.IntN(30)
	case x < 0.85:
		secs = 60 + r.IntN(120)
	default:
		secs = 180 + r.IntN(220)
	}
	return client.VideoAnalysisRequest{
		VideoURL:    fmt.Sprintf("https://cdn.example.com/sim/%s-%d.mp4?duration=%d", ws, n, secs),
		WorkspaceID: ws, Title: "Spot " + pick(r, topics), Brand: "Acme", Product: "Rocket",
		PrimaryIntent: "Persuasive", Goal: "Measure attention and brand recall across the spot",
	}, secs
}

func brandVoice(r *rand.Rand, ws string) client.BrandVoiceRequest {
	return client.BrandVoiceRequest{Label: "Voice for " + pick(r, topics), UsageContext: "Marketing emails and landing pages", WorkspaceID: ws}
}

func persona(r *rand.Rand) client.PersonaRequest {
	return client.PersonaRequest{Name: "Custom " + pick(r, audiences), Type: "B2C", PipelineType: "north_star"}
}
