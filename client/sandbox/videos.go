package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

type videoRequest struct {
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

type videoObject struct {
	videoRequest
	ID        string        `json:"id"`
	Object    string        `json:"object"`
	Status    string        `json:"status"`
	CreatedAt int64         `json:"created_at"`
	UpdatedAt int64         `json:"updated_at"`
	Error     *string       `json:"error"`
	Progress  videoProgress `json:"progress"`
	Results   any           `json:"results"`
	Chunks    []any         `json:"chunks"`
	Usage     *creditsUsed  `json:"usage,omitempty"`
}

type videoProgress struct {
	TotalChunks     int `json:"total_chunks"`
	ProcessedChunks int `json:"processed_chunks"`
}

var intents = map[string]bool{"Informative": true, "Persuasive": true, "Directive": true, "Expressive": true,
	"Transactional": true, "Appreciative": true, "Inspirational": true, "Entertainment": true}

// validate applies the API reference's rules when video_url is used; the asset_id
// form (feature pages) needs only the asset.
func (v *videoRequest) validate() *result {
	bad := func(code, msg, param string) *result { r := badRequest(code, msg, param); return &r }
	if v.VideoURL == "" && v.AssetID == "" {
		return bad("missing_field", "video_url (or asset_id) is required.", "video_url")
	}
	if v.VideoURL == "" {
		return nil
	}
	for _, f := range []struct {
		name, val string
		lo, hi    int
	}{{"title", v.Title, 3, 100}, {"brand", v.Brand, 2, 100}, {"product", v.Product, 2, 100}, {"goal", v.Goal, 10, 500}} {
		n := len([]rune(f.val))
		if n == 0 {
			return bad("missing_field", f.name+" is required.", f.name)
		}
		if n < f.lo || n > f.hi {
			return bad("invalid_field", fmt.Sprintf("%s must be %d–%d characters.", f.name, f.lo, f.hi), f.name)
		}
	}
	if v.PrimaryIntent == "" {
		return bad("missing_field", "primary_intent is required.", "primary_intent")
	}
	if !intents[v.PrimaryIntent] {
		return bad("invalid_field", "primary_intent must be one of Informative, Persuasive, Directive, Expressive, Transactional, Appreciative, Inspirational, Entertainment.", "primary_intent")
	}
	return nil
}

// createVideo is POST /video-analyses: 100–600 credits by length (assumptions.go).
func (s *Sandbox) createVideo(c *call) result {
	var req videoRequest
	if r := c.decode(&req); r != nil {
		return *r
	}
	if r := req.validate(); r != nil {
		return *r
	}
	w, bad := c.workspace(req.WorkspaceID)
	if bad != nil {
		return *bad
	}
	seconds, ok := VideoSecondsFromURL(req.VideoURL)
	if !ok {
		seconds = 10 + s.rng(c.a.id, w.id, "/video-analyses", "length").IntN(231)
	}
	price := videoPrice(seconds, s.overshoot(c.a.id, "video"), s.rng(c.a.id, w.id, "/video-analyses"))
	j, refused := s.startJob(c, w, kindVideo, "/video-analyses", price, seconds)
	if refused != nil {
		return *refused
	}
	j.video = &req
	return result{status: http.StatusCreated, body: videoView(j, c.now)}
}

func videoView(j *job, now time.Time) videoObject {
	chunk := max(j.video.ChunkDuration, 2)
	total := max(1, (j.seconds+chunk-1)/chunk)
	st := j.status(now)
	o := videoObject{
		videoRequest: *j.video, ID: j.id, Object: "video_analysis", Status: st,
		CreatedAt: j.created.Unix(), UpdatedAt: earlier(now, j.done).Unix(),
		Progress: videoProgress{TotalChunks: total, ProcessedChunks: int(float64(total) * j.progress(now))},
		Chunks:   []any{}, Usage: j.usage(now),
	}
	switch st {
	case "completed":
		o.Results = map[string]any{"completed_at": j.done.Unix(), "metrics": map[string]any{"attention": 0.72, "emotional_intensity": 0.58, "brand_recall": 0.64}}
	case "failed":
		msg := "The video could not be analysed (sandbox failure)."
		o.Error = &msg
	}
	return o
}

// listVideos is GET /video-analyses (offset pagination: limit 1–100, default 20; offset; status).
func (s *Sandbox) listVideos(c *call) result {
	q := c.r.URL.Query()
	limit, offset := 20, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return badRequest("invalid_field", "limit must be between 1 and 100.", "limit")
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest("invalid_field", "offset must be a non-negative integer.", "offset")
		}
		offset = n
	}
	status := q.Get("status")
	var all []videoObject
	for _, id := range c.a.jobOrder {
		j := c.a.jobs[id]
		if j.kind != kindVideo {
			continue
		}
		v := videoView(j, c.now)
		if status == "" || v.Status == status {
			all = append(all, v)
		}
	}
	page := []videoObject{}
	if offset < len(all) {
		page = all[offset:min(len(all), offset+limit)]
	}
	return result{status: http.StatusOK, body: map[string]any{
		"object": "list", "data": page, "has_more": offset+len(page) < len(all), "total": len(all)}}
}
