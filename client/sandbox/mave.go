package sandbox

import (
	"net/http"
	"time"
)

type maveRequest struct {
	Message     string `json:"message"`
	ThreadID    string `json:"thread_id"`
	WorkspaceID string `json:"workspace_id"`
	Stream      bool   `json:"stream"`
}

type maveMessage struct {
	ID           string       `json:"id"`
	Object       string       `json:"object"`
	ThreadID     string       `json:"thread_id"`
	Role         string       `json:"role"`
	Content      string       `json:"content"`
	Sources      []maveSource `json:"sources"`
	PersonasUsed []personaRef `json:"personas_used"`
	Usage        creditsUsed  `json:"usage"`
	CreatedAt    string       `json:"created_at"`
}

type maveSource struct {
	Title  string `json:"title"`
	URL    string `json:"url"`
	Domain string `json:"domain"`
}

type personaRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// maveChat is POST /mave/chat: 10–50 credits by the question's complexity
// (assumptions.go). It answers at once; the real first answer takes 30–90 s.
func (s *Sandbox) maveChat(c *call) result {
	var req maveRequest
	if r := c.decode(&req); r != nil {
		return *r
	}
	switch {
	case req.Message == "":
		return badRequest("missing_field", "message is required.", "message")
	case req.Stream:
		return badRequest("invalid_field", "The sandbox does not emulate streaming; send stream: false.", "stream")
	}
	w, bad := c.workspace(req.WorkspaceID)
	if bad != nil {
		return *bad
	}
	complexity := MaveComplexity(req.Message)
	over := complexity == "complex" && s.overshoot(c.a.id, "mave-complex")
	credits := mavePrice(complexity, over, s.rng(c.a.id, w.id, "/mave/chat", complexity))
	if _, refused := c.charge(w, "/mave/chat", credits); refused != nil {
		return *refused
	}
	thread := req.ThreadID
	if thread == "" {
		thread = s.newID("clx")
		w.threads++
	}
	return result{status: http.StatusOK, body: maveMessage{
		ID: s.newID("msg_"), Object: "mave_message", ThreadID: thread, Role: "assistant",
		Content:      "Sandbox research answer (" + complexity + " question).",
		Sources:      []maveSource{{Title: "Sandbox source", URL: "https://example.com/report", Domain: "example.com"}},
		PersonasUsed: []personaRef{{ID: builtinPersonas[0].ID, Name: builtinPersonas[0].Name}},
		Usage:        creditsUsed{CreditsUsed: credits},
		CreatedAt:    c.now.UTC().Format(time.RFC3339),
	}}
}
