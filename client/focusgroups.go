package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// FocusGroupRequest is the body of POST /focus-groups. The API reference for focus
// groups was not found; this is the shape the sandbox assumes
// (sandbox/assumptions.go): correct both together.
type FocusGroupRequest struct {
	Name string `json:"name"`
	// WorkspaceID is required by the API.
	WorkspaceID string               `json:"workspace_id"`
	PersonaIDs  []string             `json:"persona_ids"`
	Questions   []FocusGroupQuestion `json:"questions"`
	// SampleSize is the number of respondents; the price grows with it.
	SampleSize int    `json:"sample_size"`
	Stimulus   string `json:"stimulus,omitempty"`
}

// FocusGroupQuestion is one question; Type is e.g. "nps" or "open_ended".
type FocusGroupQuestion struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// FocusGroup is a focus group as GET /focus-groups/{id} returns it (assumed shape).
// Its fields are the API's JSON fields of the same names.
type FocusGroup struct {
	ID          string               `json:"id"`
	Object      string               `json:"object"`
	Name        string               `json:"name"`
	WorkspaceID string               `json:"workspace_id"`
	Status      string               `json:"status"`
	SampleSize  int                  `json:"sample_size"`
	PersonaIDs  []string             `json:"persona_ids"`
	Questions   []FocusGroupQuestion `json:"questions"`
	Stimulus    string               `json:"stimulus,omitempty"`
	Error       string               `json:"error,omitempty"`
	Progress    *JobProgress         `json:"progress,omitempty"`
	Results     json.RawMessage      `json:"results,omitempty"`
	Usage       *JobUsage            `json:"usage,omitempty"`
	CreatedAt   int64                `json:"created_at"`
	UpdatedAt   int64                `json:"updated_at,omitempty"`
}

// JobProgress is how far a focus group has come.
type JobProgress struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
}

// JobID returns the id.
func (f *FocusGroup) JobID() string { return f.ID }

// JobStatus returns the status.
func (f *FocusGroup) JobStatus() string { return f.Status }

// FailureMessage returns the error message.
func (f *FocusGroup) FailureMessage() string { return f.Error }

// Credits returns usage.credits_used (0 until the job has finished).
func (f *FocusGroup) Credits() int64 {
	if f.Usage == nil {
		return 0
	}
	return f.Usage.CreditsUsed
}

// CreateFocusGroup calls POST /focus-groups (50–200 credits) without pre-flight or
// concurrency slot; prefer LaunchFocusGroup or StartFocusGroup. The charge is
// tracked when the job is seen finished.
func (c *Client) CreateFocusGroup(ctx context.Context, req FocusGroupRequest) (*FocusGroup, error) {
	return c.createFocusGroup(ctx, req, track{op: "focus-group"})
}

func (c *Client) createFocusGroup(ctx context.Context, req FocusGroupRequest, t track) (*FocusGroup, error) {
	var out FocusGroup
	if err := c.createAsync(ctx, "/focus-groups", t, req, &out, func() string { return out.ID }); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetFocusGroup calls GET /focus-groups/{id} (free). When it sees a job this client
// created finished, it publishes the job's charge (once).
func (c *Client) GetFocusGroup(ctx context.Context, id string) (*FocusGroup, error) {
	var out FocusGroup
	if _, err := c.send(ctx, request{method: http.MethodGet, path: "/focus-groups/" + url.PathEscape(id)}, &out); err != nil {
		return nil, err
	}
	c.observe(ctx, &out)
	return &out, nil
}

// WaitFocusGroup polls a focus group until it finishes (see Job.Wait).
func (c *Client) WaitFocusGroup(ctx context.Context, id string) (*FocusGroup, error) {
	return waitJob(ctx, c, JobFocusGroup, id, c.GetFocusGroup)
}
