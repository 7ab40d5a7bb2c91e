package sandbox

import (
	"encoding/json"
	"net/http"
	"time"
)

type brandVoiceRequest struct {
	Label          string          `json:"label"`
	UsageContext   string          `json:"usage_context"`
	WorkspaceID    string          `json:"workspace_id,omitempty"`
	URLs           []string        `json:"urls,omitempty"`
	Documents      json.RawMessage `json:"documents,omitempty"`
	ExamplePhrases json.RawMessage `json:"example_phrases,omitempty"`
	Vocabulary     json.RawMessage `json:"vocabulary,omitempty"`
	Tone           json.RawMessage `json:"tone,omitempty"`
}

type brandVoiceObject struct {
	ID             string       `json:"id"`
	Object         string       `json:"object"`
	Label          string       `json:"label"`
	Status         string       `json:"status"`
	Error          *string      `json:"error"`
	VoiceSummary   *string      `json:"voice_summary"`
	Tone           any          `json:"tone"`
	WritingStyle   any          `json:"writing_style"`
	Vocabulary     any          `json:"vocabulary"`
	ExamplePhrases any          `json:"example_phrases"`
	Sources        []string     `json:"sources"`
	WorkspaceID    string       `json:"workspace_id"`
	CreatedAt      string       `json:"created_at"`
	UpdatedAt      string       `json:"updated_at"`
	Usage          *creditsUsed `json:"usage,omitempty"`
}

// createBrandVoice is POST /brand-voices: 50 credits, generated asynchronously.
func (s *Sandbox) createBrandVoice(c *call) result {
	var req brandVoiceRequest
	if r := c.decode(&req); r != nil {
		return *r
	}
	switch {
	case len([]rune(req.Label)) < 2:
		return badRequest("invalid_field", "label must be at least 2 characters.", "label")
	case len([]rune(req.UsageContext)) < 10:
		return badRequest("invalid_field", "usage_context must be at least 10 characters.", "usage_context")
	}
	w, bad := c.workspace(req.WorkspaceID)
	if bad != nil {
		return *bad
	}
	j, refused := s.startJob(c, w, kindBrandVoice, "/brand-voices", BrandVoicePrice, 0)
	if refused != nil {
		return *refused
	}
	j.voice = &req
	return result{status: http.StatusCreated, body: brandVoiceView(j, c.now)}
}

func brandVoiceView(j *job, now time.Time) brandVoiceObject {
	st := j.status(now)
	o := brandVoiceObject{
		ID: j.id, Object: "brand_voice", Label: j.voice.Label, Status: st, WorkspaceID: j.ws.id,
		Sources: j.voice.URLs, CreatedAt: j.created.UTC().Format(time.RFC3339),
		UpdatedAt: earlier(now, j.done).UTC().Format(time.RFC3339), Usage: j.usage(now),
	}
	if o.Sources == nil {
		o.Sources = []string{}
	}
	switch st {
	case "completed":
		summary := "A confident, plain-spoken voice for " + j.voice.Label + "."
		o.VoiceSummary = &summary
		o.Tone = []string{"confident", "warm"}
		o.WritingStyle = "short sentences, active voice"
		o.Vocabulary = []string{"simple", "clear"}
		o.ExamplePhrases = []string{"Let's get it done."}
	case "failed":
		msg := "The brand voice could not be generated (sandbox failure)."
		o.Error = &msg
	}
	return o
}
