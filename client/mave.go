package client

import "context"

// MaveChatRequest is the body of POST /mave/chat.
// Its fields are the API's JSON fields of the same names.
type MaveChatRequest struct {
	// Message is the question (required).
	Message string `json:"message"`
	// ThreadID continues a thread; empty starts a new one.
	ThreadID string `json:"thread_id,omitempty"`
	// WorkspaceID is the API's workspace; empty means the default workspace.
	WorkspaceID string `json:"workspace_id,omitempty"`
}

// MaveMessage is Mave's answer.
// Its fields are the API's JSON fields of the same names.
type MaveMessage struct {
	ID           string       `json:"id"`
	Object       string       `json:"object"`
	ThreadID     string       `json:"thread_id"`
	Role         string       `json:"role"`
	Content      string       `json:"content"`
	Sources      []MaveSource `json:"sources"`
	PersonasUsed []PersonaRef `json:"personas_used"`
	Usage        CreditUsage  `json:"usage"`
	CreatedAt    string       `json:"created_at"`
}

// MaveSource is a source Mave cites.
type MaveSource struct {
	Title  string `json:"title"`
	URL    string `json:"url"`
	Domain string `json:"domain"`
}

// PersonaRef names a persona.
type PersonaRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreditUsage is the usage object that carries only credits_used.
type CreditUsage struct {
	CreditsUsed int64 `json:"credits_used"`
}

// Credits returns usage.credits_used.
func (m *MaveMessage) Credits() int64 { return m.Usage.CreditsUsed }

// MaveChat calls POST /mave/chat (10–50 credits; the first answer takes 30–90 s).
// It holds one of the 10 Mave slots for the call's duration, waiting for one if all
// are taken (see Concurrency).
func (c *Client) MaveChat(ctx context.Context, req MaveChatRequest) (*MaveMessage, error) {
	return c.maveChat(ctx, req, track{})
}

func (c *Client) maveChat(ctx context.Context, req MaveChatRequest, t track) (*MaveMessage, error) {
	release, err := c.sh.slots.acquire(ctx, JobMave)
	if err != nil {
		return nil, err
	}
	defer release()
	var out MaveMessage
	if err := c.createSync(ctx, "/mave/chat", t, req, &out, func() string { return out.ID }); err != nil {
		return nil, err
	}
	return &out, nil
}
