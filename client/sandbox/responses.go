package sandbox

import (
	"encoding/json"
	"net/http"
)

type responseRequest struct {
	Model        string          `json:"model"`
	Input        json.RawMessage `json:"input"`
	PersonaID    string          `json:"persona_id"`
	Instructions string          `json:"instructions"`
	Stream       bool            `json:"stream"`
}

type responseObject struct {
	ID        string       `json:"id"`
	Object    string       `json:"object"`
	CreatedAt int64        `json:"created_at"`
	Status    string       `json:"status"`
	Model     string       `json:"model"`
	Output    []outputItem `json:"output"`
	Usage     tokenUsage   `json:"usage"`
}

type outputItem struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Role    string          `json:"role"`
	Content []outputContent `json:"content"`
}

type outputContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type tokenUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
	CreditsUsed  int64 `json:"credits_used"`
}

type creditsUsed struct {
	CreditsUsed int64 `json:"credits_used"`
}

// createResponse is POST /responses: 1–5 credits by tokens.
func (s *Sandbox) createResponse(c *call) result {
	var req responseRequest
	if r := c.decode(&req); r != nil {
		return *r
	}
	switch {
	case req.Model == "":
		return badRequest("missing_field", "model is required.", "model")
	case req.Model != "mavera-1":
		return badRequest("invalid_model", "Unknown model "+clip(req.Model, 40)+"; use mavera-1.", "model")
	case len(req.Input) == 0 || string(req.Input) == "null":
		return badRequest("missing_field", "input is required.", "input")
	case req.Stream:
		return badRequest("invalid_field", "The sandbox does not emulate streaming; send stream: false.", "stream")
	}
	inputChars := len(req.Input)
	var str string
	if json.Unmarshal(req.Input, &str) == nil {
		if len([]rune(str)) > 100_000 {
			return badRequest("invalid_field", "input must be at most 100,000 characters.", "input")
		}
		inputChars = len([]rune(str))
	}
	w, bad := c.workspace("")
	if bad != nil {
		return *bad
	}
	credits, inTok, outTok := chatPrice(inputChars, s.rng(c.a.id, w.id, "/responses"))
	if _, refused := c.charge(w, "/responses", credits); refused != nil {
		return *refused
	}
	c.a.tokensIn += inTok
	c.a.tokensOut += outTok
	return result{status: http.StatusOK, body: responseObject{
		ID: s.newID("resp_"), Object: "response", CreatedAt: c.now.Unix(), Status: "completed", Model: req.Model,
		Output: []outputItem{{Type: "message", ID: s.newID("msg_"), Role: "assistant",
			Content: []outputContent{{Type: "output_text", Text: "This is a sandbox answer from mavera-1."}}}},
		Usage: tokenUsage{InputTokens: inTok, OutputTokens: outTok, TotalTokens: inTok + outTok, CreditsUsed: credits},
	}}
}
