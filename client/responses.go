package client

import (
	"context"
	"strings"
)

// ResponseRequest is the body of POST /responses.
// Its fields are the API's JSON fields of the same names.
type ResponseRequest struct {
	// Model is the model id; empty means "mavera-1", the only one documented.
	Model string `json:"model"`
	// Input is a string (≤ 100,000 characters) or an array of input items.
	Input any `json:"input"`
	// PersonaID is the persona (CUID) that answers.
	PersonaID string `json:"persona_id,omitempty"`
	// Instructions are system-style instructions.
	Instructions string `json:"instructions,omitempty"`
	// ReasoningEffort and AnalysisMode are passed through when set.
	ReasoningEffort string `json:"reasoning_effort,omitempty"`
	AnalysisMode    string `json:"analysis_mode,omitempty"`
}

// Response is the answer of POST /responses.
// Its fields are the API's JSON fields of the same names.
type Response struct {
	ID        string        `json:"id"`
	Object    string        `json:"object"`
	CreatedAt int64         `json:"created_at"`
	Status    string        `json:"status"`
	Model     string        `json:"model"`
	Output    []OutputItem  `json:"output"`
	Usage     ResponseUsage `json:"usage"`
}

// OutputItem is one item of a response's output (a message).
type OutputItem struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Role    string          `json:"role"`
	Content []OutputContent `json:"content"`
}

// OutputContent is one part of an output message.
type OutputContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// ResponseUsage is a response's token and credit usage.
type ResponseUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
	CreditsUsed  int64 `json:"credits_used"`
}

// Credits returns usage.credits_used.
func (r *Response) Credits() int64 { return r.Usage.CreditsUsed }

// Text returns the concatenated output_text parts.
func (r *Response) Text() string {
	var b strings.Builder
	for _, it := range r.Output {
		for _, c := range it.Content {
			if c.Type == "output_text" {
				b.WriteString(c.Text)
			}
		}
	}
	return b.String()
}

// CreateResponse calls POST /responses (1–5 credits). Streaming is not supported:
// the credits ride on the final object.
func (c *Client) CreateResponse(ctx context.Context, req ResponseRequest) (*Response, error) {
	return c.createResponse(ctx, req, track{op: "chat"})
}

func (c *Client) createResponse(ctx context.Context, req ResponseRequest, t track) (*Response, error) {
	if req.Model == "" {
		req.Model = "mavera-1"
	}
	var out Response
	if err := c.createSync(ctx, "/responses", t, req, &out, func() string { return out.ID }); err != nil {
		return nil, err
	}
	return &out, nil
}
