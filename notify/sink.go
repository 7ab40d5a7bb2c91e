// Package notify delivers alert transitions — decided by model.AlertTransitions,
// claimed once across instances by feed.AlertStore — to webhooks (a JSON POST)
// and chat services (through github.com/nicholas-fedor/shoutrrr), retrying with
// backoff for at least an hour without ever blocking the feed. It does not
// decide what an alert is: model/ does.
package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"
	"github.com/nicholas-fedor/shoutrrr/pkg/util/jsonclient"

	"mavtop/model"
)

// Payload is the JSON body a webhook receives for one transition. Key is the
// idempotency key: delivery is at-least-once (an instance that crashes between
// sending and recording it is taken over and sends again), so a receiver that
// must never act twice drops a Key it has seen.
type Payload struct {
	Key       string            `json:"key"`
	ID        string            `json:"id"`
	Status    model.AlertStatus `json:"status"`
	Kind      model.AlertKind   `json:"kind"`
	Workspace string            `json:"workspace"`
	Project   string            `json:"project"`
	// Threshold is the percent of the cap, for kind "threshold" (else null).
	Threshold *int   `json:"threshold"`
	Code      string `json:"code,omitempty"`
	// PercentUsed is credits used over the workspace's effective cap; for a
	// project's alert, the project's over its usage limit (0 without one).
	PercentUsed float64 `json:"percent_used"`
	// PercentShown is PercentUsed as every surface writes it
	// (model.FormatPercent): "76 %", "98.9 %", ">9999 %", what check prints.
	PercentShown string `json:"percent_shown"`
	Used         int64  `json:"used"`
	// Cap is the line in credits the alert is judged against; CapKind names the
	// effective cap ("allocation" or "limit") for thresholds.
	Cap     int64  `json:"cap"`
	CapKind string `json:"cap_kind,omitempty"`
	Level   string `json:"level"`
	Period  string `json:"period"`
	// At is when the transition was decided (RFC 3339).
	At      string `json:"at"`
	Summary string `json:"summary"`
	// SpareSeconds is, for kind "run_out", how long before the period's end
	// the credits run out at the current burn, in seconds, the unit of every
	// duration mavtop writes as JSON (spare_hours, the same in hours beside
	// it, is gone: one figure, one unit).
	SpareSeconds float64 `json:"spare_seconds,omitempty"`
	Source       string  `json:"source"`
	// Instance is the mavtop that delivered this payload: --instance, or the
	// host and the command ("web-1/watch"). Another instance may deliver the
	// same key after a take-over; it names itself.
	Instance string `json:"instance"`
}

// MaxInstance bounds Payload.Instance, in bytes.
const MaxInstance = 100

// NewPayload builds the payload of a transition with its summary.
func NewPayload(tr *model.AlertTransition, summary string) Payload {
	a := &tr.Alert
	p := Payload{
		Key: tr.Key(), ID: a.ID, Status: tr.Status, Kind: a.Kind,
		Workspace: a.Workspace, Project: a.Project, Code: a.Code,
		PercentUsed: model.ShownPercent(a.PercentUsed), PercentShown: model.FormatPercent(a.PercentUsed), Used: a.Used, Cap: a.Cap, Level: a.Level.String(),
		Period: a.Period, At: tr.At.UTC().Format(time.RFC3339), Summary: model.Sanitize(summary), Source: "mavtop",
	}
	if a.Kind == model.AlertThreshold {
		th := a.Threshold
		p.Threshold = &th
	}
	if a.CapKind != model.CapNone {
		p.CapKind = a.CapKind.String()
	}
	if a.Kind == model.AlertRunOut {
		p.SpareSeconds = a.Spare.Seconds()
	}
	return p
}

// Sink is one destination of notifications.
type Sink interface {
	// Name identifies the sink in logs, metrics and the store without its
	// secrets: "webhook:host:port" or the chat scheme ("slack").
	Name() string
	// Send delivers one payload; a *PermanentError says retrying is useless.
	Send(ctx context.Context, p *Payload) error
}

// PermanentError is a delivery error that no retry will fix (a 4xx answer).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// StatusError is a webhook's non-2xx answer.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return strconv.Itoa(e.Code) + " " + http.StatusText(e.Code) }

// ParseSinks turns --notify URLs into sinks: http(s) URLs are webhooks, any
// other scheme goes to shoutrrr (slack://, discord://, teams://, smtp://,
// telegram://, generic://…). hc sends the webhooks (nil: a client with a 10 s
// timeout). An unknown scheme or a malformed URL is an error naming it
// without its secrets.
func ParseSinks(urls []string, hc *http.Client) ([]Sink, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	// A 301, 302 or 303 turns the POST into a body-less GET: followed, a GET
	// answered 200 would count as sent while nothing was delivered. Only a
	// redirect that keeps the POST and its body (307, 308) is followed; the
	// others are answers of their own (permanent: the URL needs fixing).
	whc := *hc
	whc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Method != http.MethodPost || len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	var sinks []Sink
	var raws []string
	seen := map[string]int{}
	for _, raw := range urls {
		raw = strings.TrimSpace(raw)
		if raw == "" || slices.Contains(raws, raw) { // one URL twice is one sink
			continue
		}
		raws = append(raws, raw)
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("notify URL %q: not a URL", redact(raw))
		}
		var s Sink
		switch u.Scheme {
		case "http", "https":
			if u.Host == "" {
				return nil, fmt.Errorf("notify URL %q: no host", redact(raw))
			}
			s = &webhook{url: raw, hc: &whc, name: "webhook:" + u.Host}
		default:
			r, err := router.New(nil, raw)
			if err != nil {
				return nil, fmt.Errorf("notify URL %s://…: %v", u.Scheme, err)
			}
			r.Timeout = 10 * time.Second
			s = &chat{r: r, name: u.Scheme}
		}
		seen[s.Name()]++
		sinks = append(sinks, s)
	}
	// A sink's name is its identity in the shared delivery records: an
	// instance taking a delivery over sends only to the names not yet done.
	// Sinks sharing a host (or a chat scheme) are told apart by a hash of the
	// whole URL, never by their order, which another instance's flags, env or
	// file may list differently (by order, its first sink would be taken for
	// this one's first: sent twice to one, never to the other). The hash
	// names no token.
	for i, s := range sinks {
		if seen[s.Name()] > 1 {
			h := sha256.Sum256([]byte(raws[i]))
			sinks[i] = renamed{s, s.Name() + "#" + hex.EncodeToString(h[:4])}
		}
	}
	return sinks, nil
}

// redact keeps a URL's scheme and host, never its path, query or user info,
// where tokens live.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "…"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

type renamed struct {
	Sink
	name string
}

func (r renamed) Name() string { return r.name }

type webhook struct {
	url  string
	hc   *http.Client
	name string
}

func (w *webhook) Name() string { return w.name }

// Send POSTs the payload as JSON. 2xx is sent; 408, 425, 429 and 5xx are worth
// retrying; any other answer is permanent.
func (w *webhook) Send(ctx context.Context, p *Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return &PermanentError{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{fmt.Errorf("webhook %s: %w", w.name, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mavtop")
	req.Header.Set("Idempotency-Key", p.Key)
	resp, err := w.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a token
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 400 && !permanentStatus(c): // 408, 425, 429, 5xx
		return &StatusError{c}
	default: // other 4xx, and 1xx/3xx answers that are not a delivery
		return &PermanentError{&StatusError{c}}
	}
}

type chat struct {
	r    *router.ServiceRouter
	name string
}

func (c *chat) Name() string { return c.name }

// Send posts the summary, titled with the status, through shoutrrr.
func (c *chat) Send(ctx context.Context, p *Payload) error {
	title := "mavtop " + string(p.Status) + ": " + string(p.Kind)
	if p.Workspace == "" {
		// the feed's alerts by their name ("feed reset", "feed stale"): the
		// kind alone does not say which re-read it was
		title = "mavtop " + string(p.Status) + ": " + model.FeedAlertName(p.ID)
	}
	msg := p.Summary
	if p.Status == model.AlertFiring {
		msg = "🔥 " + msg
	} else {
		msg = "✅ " + msg
	}
	if p.Instance != "" {
		msg += "\n(sent by mavtop " + p.Instance + ")"
	}
	done := make(chan error, 1)
	go func() {
		var err error
		for _, e := range c.r.Send(msg, &types.Params{"title": title}) {
			if e != nil {
				err = e
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		return chatError(err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// httpStatusIn finds the HTTP status in a chat service's error, the ways
// shoutrrr's services word it: "HTTP 413", "…: 400 Bad Request", "…: 404".
var (
	httpStatusIn = regexp.MustCompile(`\bHTTP ([1-5][0-9][0-9])\b`)
	statusIn     = regexp.MustCompile(`: ([1-5][0-9][0-9])\b`)
)

// chatError makes a chat service's refusal permanent when no retry can fix
// it: an HTTP 4xx other than 408, 425 and 429 (a wrong token or channel, a
// message too large), as for webhooks. Anything else (5xx, a network error,
// SMTP's own codes) stays worth retrying.
func chatError(err error) error {
	if err == nil {
		return nil
	}
	if permanentStatus(chatStatus(err)) {
		return &PermanentError{err}
	}
	return err
}

// chatStatus is the HTTP status a chat service's error reports, 0 when it
// names none. A bare ": 404" counts only at the end of the text or followed by
// its status text, so that SMTP's "450 4.2.1" is not read as one.
func chatStatus(err error) int {
	var je jsonclient.Error
	if errors.As(err, &je) {
		return je.StatusCode
	}
	s := err.Error()
	if m := httpStatusIn.FindStringSubmatch(s); m != nil {
		c, _ := strconv.Atoi(m[1])
		return c
	}
	for _, m := range statusIn.FindAllStringSubmatchIndex(s, -1) {
		c, _ := strconv.Atoi(s[m[2]:m[3]])
		if rest, text := s[m[1]:], http.StatusText(c); rest == "" || text != "" && strings.HasPrefix(rest, " "+text) {
			return c
		}
	}
	return 0
}

// permanentStatus says whether an HTTP answer is one no retry will fix: a 4xx
// other than 408 Request Timeout, 425 Too Early and 429 Too Many Requests.
func permanentStatus(c int) bool {
	return c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooEarly && c != http.StatusTooManyRequests
}
