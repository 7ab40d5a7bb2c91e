package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// VideoAnalysisRequest is the body of POST /video-analyses. The API reference takes
// video_url with title, brand, product, primary_intent and goal; the feature pages
// take asset_id and workspace_id instead. Set whichever your account uses.
// Its fields are the API's JSON fields of the same names.
type VideoAnalysisRequest struct {
	VideoURL        string `json:"video_url,omitempty"`
	AssetID         string `json:"asset_id,omitempty"`
	WorkspaceID     string `json:"workspace_id,omitempty"`
	Title           string `json:"title,omitempty"`
	Brand           string `json:"brand,omitempty"`
	Product         string `json:"product,omitempty"`
	PrimaryIntent   string `json:"primary_intent,omitempty"`
	SecondaryIntent string `json:"secondary_intent,omitempty"`
	TertiaryIntent  string `json:"tertiary_intent,omitempty"`
	Goal            string `json:"goal,omitempty"`
	ChunkDuration   int    `json:"chunk_duration,omitempty"`
	FramesPerChunk  int    `json:"frames_per_chunk,omitempty"`
}

// VideoAnalysis is a video analysis as GET /video-analyses/{id} returns it.
// Its fields are the API's JSON fields of the same names.
type VideoAnalysis struct {
	ID            string          `json:"id"`
	Object        string          `json:"object"`
	Status        string          `json:"status"`
	CreatedAt     int64           `json:"created_at"`
	UpdatedAt     int64           `json:"updated_at,omitempty"`
	VideoURL      string          `json:"video_url,omitempty"`
	AssetID       string          `json:"asset_id,omitempty"`
	Title         string          `json:"title,omitempty"`
	Brand         string          `json:"brand,omitempty"`
	Product       string          `json:"product,omitempty"`
	PrimaryIntent string          `json:"primary_intent,omitempty"`
	Goal          string          `json:"goal,omitempty"`
	Error         string          `json:"error,omitempty"`
	Progress      *VideoProgress  `json:"progress,omitempty"`
	Results       json.RawMessage `json:"results,omitempty"`
	Chunks        json.RawMessage `json:"chunks,omitempty"`
	Usage         *JobUsage       `json:"usage,omitempty"`
}

// VideoProgress is how many chunks of the video have been analysed.
type VideoProgress struct {
	TotalChunks     int `json:"total_chunks"`
	ProcessedChunks int `json:"processed_chunks"`
}

// JobID returns the id.
func (v *VideoAnalysis) JobID() string { return v.ID }

// JobStatus returns the status.
func (v *VideoAnalysis) JobStatus() string { return v.Status }

// FailureMessage returns the error message.
func (v *VideoAnalysis) FailureMessage() string { return v.Error }

// Credits returns usage.credits_used (0 until the analysis has finished).
func (v *VideoAnalysis) Credits() int64 {
	if v.Usage == nil {
		return 0
	}
	return v.Usage.CreditsUsed
}

// CreateVideoAnalysis calls POST /video-analyses (100–600 credits by length) without
// pre-flight or concurrency slot; prefer LaunchVideoAnalysis or StartVideoAnalysis.
func (c *Client) CreateVideoAnalysis(ctx context.Context, req VideoAnalysisRequest) (*VideoAnalysis, error) {
	return c.createVideoAnalysis(ctx, req, track{op: "video"})
}

func (c *Client) createVideoAnalysis(ctx context.Context, req VideoAnalysisRequest, t track) (*VideoAnalysis, error) {
	var out VideoAnalysis
	if err := c.createAsync(ctx, "/video-analyses", t, req, &out, func() string { return out.ID }); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetVideoAnalysis calls GET /video-analyses/{id} (free) and publishes the charge of
// a finished analysis this client created (once).
func (c *Client) GetVideoAnalysis(ctx context.Context, id string) (*VideoAnalysis, error) {
	var out VideoAnalysis
	if _, err := c.send(ctx, request{method: http.MethodGet, path: "/video-analyses/" + url.PathEscape(id)}, &out); err != nil {
		return nil, err
	}
	c.observe(ctx, &out)
	return &out, nil
}

// WaitVideoAnalysis polls a video analysis until it finishes.
func (c *Client) WaitVideoAnalysis(ctx context.Context, id string) (*VideoAnalysis, error) {
	return waitJob(ctx, c, JobVideo, id, c.GetVideoAnalysis)
}
