package sandbox

import (
	"net/http"
	"strings"
	"time"
)

type workspaceObject struct {
	ID           string  `json:"id"`
	Object       string  `json:"object"`
	Name         string  `json:"name"`
	Image        *string `json:"image"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	IsOwner      bool    `json:"is_owner"`
	MemberCount  int     `json:"member_count"`
	ProjectCount int     `json:"project_count"`
	ThreadCount  int     `json:"thread_count"`
	BudgetAlert  *int64  `json:"budget_alert"`
	UsageLimit   *int64  `json:"usage_limit"`
	BillingEmail *string `json:"billing_email"`
	Members      []any   `json:"members,omitempty"`
	CreatedAt    string  `json:"created_at"`
	UpdatedAt    string  `json:"updated_at"`
}

func workspaceView(w *workspace, members bool) workspaceObject {
	o := workspaceObject{
		ID: w.id, Object: "workspace", Name: w.name, Type: w.typ, Role: "owner", IsOwner: true,
		MemberCount: 1, ProjectCount: len(w.projects), ThreadCount: w.threads,
		CreatedAt: w.created.UTC().Format(time.RFC3339), UpdatedAt: w.created.UTC().Format(time.RFC3339),
	}
	if w.budgetAlert > 0 {
		v := w.budgetAlert
		o.BudgetAlert = &v
	}
	if w.usageLimit > 0 {
		v := w.usageLimit
		o.UsageLimit = &v
	}
	if w.billingEmail != "" {
		v := w.billingEmail
		o.BillingEmail = &v
	}
	if members {
		o.Members = []any{map[string]any{"role": "owner", "email": "owner@example.com"}}
	}
	return o
}

// listWorkspaces is GET /workspaces (search, include_members, limit, cursor).
func (s *Sandbox) listWorkspaces(c *call) result {
	q := c.r.URL.Query()
	limit, bad := cursorLimit(q.Get("limit"))
	if bad != nil {
		return *bad
	}
	search := strings.ToLower(q.Get("search"))
	members := q.Get("include_members") == "true"
	var ids []string
	for _, id := range c.a.wsOrder {
		w := c.a.workspaces[id]
		if search == "" || strings.Contains(strings.ToLower(w.name), search) {
			ids = append(ids, id)
		}
	}
	from, to, next, r := page(ids, q.Get("cursor"), limit)
	if r != nil {
		return *r
	}
	data := []workspaceObject{}
	for _, id := range ids[from:to] {
		data = append(data, workspaceView(c.a.workspaces[id], members))
	}
	return result{status: http.StatusOK, body: map[string]any{"object": "list", "data": data, "has_more": next != nil, "next_cursor": next}}
}

// getWorkspace is GET /workspaces/{id}.
func (s *Sandbox) getWorkspace(c *call, id string) result {
	w := c.a.workspaces[id]
	if w == nil {
		return notFound("No workspace with id " + clip(id, 64) + ".")
	}
	return result{status: http.StatusOK, body: workspaceView(w, true)}
}
