package sandbox

import (
	"net/http"
	"strconv"
	"strings"
)

type personaRequest struct {
	PipelineType string `json:"pipeline_type"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	RoleSegment  string `json:"role_segment"`
}

type personaObject struct {
	ID             string         `json:"id"`
	Object         string         `json:"object"`
	Name           string         `json:"name"`
	Category       string         `json:"category"`
	Description    string         `json:"description"`
	PipelineType   string         `json:"pipeline_type,omitempty"`
	Type           string         `json:"type,omitempty"`
	IsCustom       bool           `json:"is_custom"`
	IsExpert       bool           `json:"is_expert"`
	CreatedAt      int64          `json:"created_at"`
	CreditsCharged *int64         `json:"credits_charged,omitempty"`
	Details        map[string]any `json:"details,omitempty"`
}

// builtinPersonas is the sandbox's catalog of stock personas (GET /personas).
var builtinPersonas = []personaObject{
	{ID: "clxp0000000000000000000001", Object: "persona", Name: "Gen Z Shopper", Category: "consumer", Description: "18–26, mobile-first, value-driven."},
	{ID: "clxp0000000000000000000002", Object: "persona", Name: "Millennial Parent", Category: "consumer", Description: "30–40, time-poor, safety-minded."},
	{ID: "clxp0000000000000000000003", Object: "persona", Name: "IT Decision Maker", Category: "b2b", Description: "Mid-market CIO weighing vendors."},
	{ID: "clxp0000000000000000000004", Object: "persona", Name: "Marketing Director", Category: "b2b", Description: "Owns brand and demand generation.", IsExpert: true},
	{ID: "clxp0000000000000000000005", Object: "persona", Name: "Retiree Traveller", Category: "consumer", Description: "65+, plans trips months ahead."},
	{ID: "clxp0000000000000000000006", Object: "persona", Name: "Healthcare Buyer", Category: "b2b", Description: "Hospital procurement lead.", IsExpert: true},
}

var pipelineTypes = map[string]bool{"north_star": true, "intermediate": true, "advanced": true}

// createPersona is POST /personas: a custom persona for 300 credits, charged at once
// (credits_charged).
func (s *Sandbox) createPersona(c *call) result {
	var req personaRequest
	if r := c.decode(&req); r != nil {
		return *r
	}
	switch {
	case req.Name == "":
		return badRequest("missing_field", "name is required.", "name")
	case req.Type != "B2B" && req.Type != "B2C":
		return badRequest("invalid_field", "type must be B2B or B2C.", "type")
	case req.PipelineType != "" && !pipelineTypes[req.PipelineType]:
		return badRequest("invalid_field", "pipeline_type must be north_star, intermediate or advanced.", "pipeline_type")
	}
	if req.PipelineType == "" {
		req.PipelineType = "north_star"
	}
	w, bad := c.workspace("")
	if bad != nil {
		return *bad
	}
	if _, refused := c.charge(w, "/personas", PersonaPrice); refused != nil {
		return *refused
	}
	charged := int64(PersonaPrice)
	p := personaObject{
		ID: s.newID("clx"), Object: "custom_persona", Name: req.Name, Category: "custom",
		Description: "Custom " + req.Type + " persona.", PipelineType: req.PipelineType, Type: req.Type,
		IsCustom: true, CreatedAt: c.now.Unix(), CreditsCharged: &charged,
		Details: map[string]any{"role_segment": req.RoleSegment},
	}
	list := p
	list.Object, list.CreditsCharged, list.Details = "persona", nil, nil
	c.a.personas = append(c.a.personas, list)
	return result{status: http.StatusCreated, body: p}
}

// listPersonas is GET /personas (free; cursor pagination: limit 1–100, default 50).
func (s *Sandbox) listPersonas(c *call) result {
	q := c.r.URL.Query()
	limit, bad := cursorLimit(q.Get("limit"))
	if bad != nil {
		return *bad
	}
	customOnly := q.Get("custom_only") == "true"
	category, search := q.Get("category"), strings.ToLower(q.Get("search"))
	var all []personaObject
	if !customOnly {
		all = append(all, builtinPersonas...)
	}
	all = append(all, c.a.personas...)
	var filtered []personaObject
	for _, p := range all {
		if category != "" && p.Category != category {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(p.Name+" "+p.Description), search) {
			continue
		}
		filtered = append(filtered, p)
	}
	ids := make([]string, len(filtered))
	for i, p := range filtered {
		ids[i] = p.ID
	}
	from, to, next, r := page(ids, q.Get("cursor"), limit)
	if r != nil {
		return *r
	}
	return result{status: http.StatusOK, body: map[string]any{
		"object": "list", "data": append([]personaObject{}, filtered[from:to]...), "has_more": next != nil, "next_cursor": next}}
}

// cursorLimit parses a cursor-paginated list's limit (default 50, max 100).
func cursorLimit(v string) (int, *result) {
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		r := badRequest("invalid_field", "limit must be between 1 and 100.", "limit")
		return 0, &r
	}
	return n, nil
}

// page cuts ids after cursor (the id of the previous page's last item).
func page(ids []string, cursor string, limit int) (from, to int, next *string, bad *result) {
	if cursor != "" {
		from = -1
		for i, id := range ids {
			if id == cursor {
				from = i + 1
				break
			}
		}
		if from < 0 {
			r := badRequest("invalid_field", "cursor does not name an item of this list.", "cursor")
			return 0, 0, nil, &r
		}
	}
	to = min(len(ids), from+limit)
	if to < len(ids) && to > from {
		n := ids[to-1]
		next = &n
	}
	return from, to, next, nil
}
