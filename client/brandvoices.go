package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// BrandVoicePrice is the documented one-time price of a brand voice.
const BrandVoicePrice = 50

// BrandVoiceRequest is the body of POST /brand-voices.
// Its fields are the API's JSON fields of the same names.
type BrandVoiceRequest struct {
	// Label (≥ 2 characters) and UsageContext (≥ 10) are required.
	Label        string `json:"label"`
	UsageContext string `json:"usage_context"`
	// WorkspaceID is optional (default workspace).
	WorkspaceID    string          `json:"workspace_id,omitempty"`
	URLs           []string        `json:"urls,omitempty"`
	Documents      []BrandDocument `json:"documents,omitempty"`
	ExamplePhrases any             `json:"example_phrases,omitempty"`
	Vocabulary     any             `json:"vocabulary,omitempty"`
	Tone           any             `json:"tone,omitempty"`
}

// BrandDocument is a document a brand voice learns from.
type BrandDocument struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	FileType string `json:"file_type,omitempty"`
	FileSize int64  `json:"file_size,omitempty"`
}

// BrandVoice is a brand voice as GET /brand-voices/{id} returns it.
// Its fields are the API's JSON fields of the same names.
type BrandVoice struct {
	ID             string          `json:"id"`
	Object         string          `json:"object"`
	Label          string          `json:"label,omitempty"`
	Status         string          `json:"status"`
	Error          string          `json:"error,omitempty"`
	VoiceSummary   string          `json:"voice_summary,omitempty"`
	Tone           json.RawMessage `json:"tone,omitempty"`
	WritingStyle   json.RawMessage `json:"writing_style,omitempty"`
	Vocabulary     json.RawMessage `json:"vocabulary,omitempty"`
	ExamplePhrases json.RawMessage `json:"example_phrases,omitempty"`
	Sources        json.RawMessage `json:"sources,omitempty"`
	WorkspaceID    string          `json:"workspace_id,omitempty"`
	CreatedAt      string          `json:"created_at,omitempty"`
	UpdatedAt      string          `json:"updated_at,omitempty"`
	Usage          *JobUsage       `json:"usage,omitempty"`
}

// JobID returns the id.
func (b *BrandVoice) JobID() string { return b.ID }

// JobStatus returns the status.
func (b *BrandVoice) JobStatus() string { return b.Status }

// FailureMessage returns the error message.
func (b *BrandVoice) FailureMessage() string { return b.Error }

// Credits returns usage.credits_used when the API sends it; a completed brand voice
// without it is charged the documented BrandVoicePrice.
func (b *BrandVoice) Credits() int64 {
	if b.Usage != nil {
		return b.Usage.CreditsUsed
	}
	if done, failed := jobState(b.Status); done && !failed {
		return BrandVoicePrice
	}
	return 0
}

// CreateBrandVoice calls POST /brand-voices (50 credits) without pre-flight; prefer
// LaunchBrandVoice or StartBrandVoice.
func (c *Client) CreateBrandVoice(ctx context.Context, req BrandVoiceRequest) (*BrandVoice, error) {
	return c.createBrandVoice(ctx, req, track{op: "brand-voice"})
}

func (c *Client) createBrandVoice(ctx context.Context, req BrandVoiceRequest, t track) (*BrandVoice, error) {
	var out BrandVoice
	if err := c.createAsync(ctx, "/brand-voices", t, req, &out, func() string { return out.ID }); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetBrandVoice calls GET /brand-voices/{id} (free) and publishes the charge of a
// finished brand voice this client created (once).
func (c *Client) GetBrandVoice(ctx context.Context, id string) (*BrandVoice, error) {
	var out BrandVoice
	if _, err := c.send(ctx, request{method: http.MethodGet, path: "/brand-voices/" + url.PathEscape(id)}, &out); err != nil {
		return nil, err
	}
	c.observe(ctx, &out)
	return &out, nil
}

// WaitBrandVoice polls a brand voice until it finishes.
func (c *Client) WaitBrandVoice(ctx context.Context, id string) (*BrandVoice, error) {
	return waitJob(ctx, c, JobBrandVoice, id, c.GetBrandVoice)
}
