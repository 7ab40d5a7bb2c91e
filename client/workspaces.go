package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"mavtop/model"
)

// Workspace is a workspace as GET /workspaces lists it.
// Its fields are the API's JSON fields of the same names.
type Workspace struct {
	ID           string          `json:"id"`
	Object       string          `json:"object"`
	Name         string          `json:"name"`
	Image        string          `json:"image,omitempty"`
	Type         string          `json:"type,omitempty"`
	Role         string          `json:"role,omitempty"`
	IsOwner      bool            `json:"is_owner"`
	MemberCount  int             `json:"member_count"`
	ProjectCount int             `json:"project_count"`
	ThreadCount  int             `json:"thread_count"`
	BudgetAlert  *int64          `json:"budget_alert"`
	UsageLimit   *int64          `json:"usage_limit"`
	BillingEmail string          `json:"billing_email,omitempty"`
	Members      json.RawMessage `json:"members,omitempty"`
	CreatedAt    string          `json:"created_at,omitempty"`
	UpdatedAt    string          `json:"updated_at,omitempty"`
}

// WorkspaceList is one page of GET /workspaces.
// Its fields are the API's JSON fields of the same names.
type WorkspaceList struct {
	Object     string      `json:"object"`
	Data       []Workspace `json:"data"`
	HasMore    bool        `json:"has_more"`
	NextCursor string      `json:"next_cursor"`
}

// ListWorkspacesParams are the query of GET /workspaces.
type ListWorkspacesParams struct {
	Search         string
	IncludeMembers bool
	// Limit is 1–100 (default 50).
	Limit  int
	Cursor string
}

// ListWorkspaces calls GET /workspaces for one page (free, not tracked).
func (c *Client) ListWorkspaces(ctx context.Context, p ListWorkspacesParams) (*WorkspaceList, error) {
	q := url.Values{}
	setIf(q, "search", p.Search)
	setIf(q, "cursor", p.Cursor)
	if p.IncludeMembers {
		q.Set("include_members", "true")
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var out WorkspaceList
	if _, err := c.send(ctx, request{method: http.MethodGet, path: "/workspaces", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// maxWorkspacePages stops a server whose cursor never ends.
const maxWorkspacePages = 1000

// AllWorkspaces follows the cursor through every page of GET /workspaces.
func (c *Client) AllWorkspaces(ctx context.Context, search string) ([]Workspace, error) {
	var all []Workspace
	cursor := ""
	for page := 0; page < maxWorkspacePages; page++ {
		l, err := c.ListWorkspaces(ctx, ListWorkspacesParams{Search: search, Limit: 100, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		all = append(all, l.Data...)
		if !l.HasMore || l.NextCursor == "" || l.NextCursor == cursor {
			return all, nil
		}
		cursor = l.NextCursor
	}
	return nil, fmt.Errorf("GET /workspaces: more than %d pages; giving up", maxWorkspacePages)
}

// WorkspaceBudget is a workspace's budget as the API states it (Pattern 7).
type WorkspaceBudget struct {
	// ID and Name are the API's workspace id and name.
	ID, Name string
	// BudgetAlert is the alert threshold in credits (0: none).
	BudgetAlert int64
	// UsageLimit is the hard cap in credits (0: none); reaching it gives 402 budget_exceeded.
	UsageLimit int64
}

// Apply returns s with the budget's alert and usage limit; the allocation and the
// other settings, which the API does not state per workspace, are kept.
func (b WorkspaceBudget) Apply(s model.Settings) model.Settings {
	s.BudgetAlert = b.BudgetAlert
	s.UsageLimit = b.UsageLimit
	return s
}

// WorkspaceBudgets lists every workspace's budget alert and usage limit, for
// `mavtop budget pull`.
func (c *Client) WorkspaceBudgets(ctx context.Context) ([]WorkspaceBudget, error) {
	wss, err := c.AllWorkspaces(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]WorkspaceBudget, 0, len(wss))
	for _, w := range wss {
		b := WorkspaceBudget{ID: w.ID, Name: w.Name}
		if w.BudgetAlert != nil {
			b.BudgetAlert = *w.BudgetAlert
		}
		if w.UsageLimit != nil {
			b.UsageLimit = *w.UsageLimit
		}
		out = append(out, b)
	}
	return out, nil
}
