package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
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
	Usage     *tokenUsage  `json:"usage"`
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
	resp := responseObject{
		ID: s.newID("resp_"), Object: "response", CreatedAt: c.now.Unix(), Status: "completed", Model: req.Model,
		Output: []outputItem{{Type: "message", ID: s.newID("msg_"), Role: "assistant",
			Content: []outputContent{{Type: "output_text", Text: sandboxAnswer}}}},
		Usage: &tokenUsage{InputTokens: inTok, OutputTokens: outTok, TotalTokens: inTok + outTok, CreditsUsed: credits},
	}
	if req.Stream {
		return result{status: http.StatusOK, body: responseEvents(resp)}
	}
	return result{status: http.StatusOK, body: resp}
}

// sandboxAnswer is the text of every sandbox response.
const sandboxAnswer = "This is a sandbox answer from mavera-1."

// responseEvents is a streamed response (assumptions.go): response.created with
// the response in progress and no usage, one response.output_text.delta per word,
// response.completed with the whole response and its usage, then [DONE].
func responseEvents(resp responseObject) sseBody {
	var evs sseBody
	add := func(name string, data map[string]any) {
		data["type"] = name
		data["sequence_number"] = len(evs)
		evs = append(evs, sseEvent{name: name, data: data})
	}
	started := resp
	started.Status, started.Output, started.Usage = "in_progress", []outputItem{}, nil
	add("response.created", map[string]any{"response": started})
	item := resp.Output[0].ID
	words := strings.SplitAfter(sandboxAnswer, " ")
	for _, w := range words {
		add("response.output_text.delta", map[string]any{"item_id": item, "output_index": 0, "content_index": 0, "delta": w})
	}
	add("response.completed", map[string]any{"response": resp})
	return evs
}
