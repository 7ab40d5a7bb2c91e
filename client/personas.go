package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// PersonaRequest is the body of POST /personas (custom persona creation, 300 credits).
// Its fields are the API's JSON fields of the same names.
type PersonaRequest struct {
	// PipelineType is north_star, intermediate or advanced.
	PipelineType string `json:"pipeline_type"`
	Name         string `json:"name"`
	// Type is B2B or B2C.
	Type        string `json:"type"`
	RoleSegment string `json:"role_segment,omitempty"`
	BuyingStage string `json:"buying_stage,omitempty"`
	Goals       any    `json:"goals,omitempty"`
	Pains       any    `json:"pains,omitempty"`
	Objections  any    `json:"objections,omitempty"`
}

// Persona is a custom persona as POST /personas returns it.
// Its fields are the API's JSON fields of the same names.
type Persona struct {
	ID             string          `json:"id"`
	Object         string          `json:"object"`
	Name           string          `json:"name"`
	Category       string          `json:"category,omitempty"`
	Description    string          `json:"description,omitempty"`
	PipelineType   string          `json:"pipeline_type,omitempty"`
	Type           string          `json:"type,omitempty"`
	IsCustom       bool            `json:"is_custom"`
	IsExpert       bool            `json:"is_expert,omitempty"`
	CreatedAt      int64           `json:"created_at"`
	CreditsCharged int64           `json:"credits_charged,omitempty"`
	Details        json.RawMessage `json:"details,omitempty"`
}

// Credits returns credits_charged.
func (p *Persona) Credits() int64 { return p.CreditsCharged }

// CreatePersona calls POST /personas (300 credits) without pre-flight; prefer LaunchPersona.
func (c *Client) CreatePersona(ctx context.Context, req PersonaRequest) (*Persona, error) {
	return c.createPersona(ctx, req, track{op: "persona"})
}

func (c *Client) createPersona(ctx context.Context, req PersonaRequest, t track) (*Persona, error) {
	var out Persona
	if err := c.createSync(ctx, "/personas", t, req, &out, func() string { return out.ID }); err != nil {
		return nil, err
	}
	return &out, nil
}

// PersonaListParams are the query of GET /personas.
type PersonaListParams struct {
	// CustomOnly lists only custom personas (query parameter name assumed: custom_only).
	CustomOnly bool
	Category   string
	Search     string
	// Limit is 1–100 (default 50).
	Limit  int
	Cursor string
}

// PersonaList is one page of GET /personas.
// Its fields are the API's JSON fields of the same names.
type PersonaList struct {
	Object     string    `json:"object"`
	Data       []Persona `json:"data"`
	HasMore    bool      `json:"has_more"`
	NextCursor string    `json:"next_cursor"`
}

// Credits returns 0: listing personas is free.
func (l *PersonaList) Credits() int64 { return 0 }

// ListPersonas calls GET /personas (free, cursor pagination). It is not tracked.
func (c *Client) ListPersonas(ctx context.Context, p PersonaListParams) (*PersonaList, error) {
	q := url.Values{}
	if p.CustomOnly {
		q.Set("custom_only", "true")
	}
	setIf(q, "category", p.Category)
	setIf(q, "search", p.Search)
	setIf(q, "cursor", p.Cursor)
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var out PersonaList
	if _, err := c.send(ctx, request{method: http.MethodGet, path: "/personas", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}
