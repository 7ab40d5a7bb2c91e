package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// apiError is the documented error body: {"error":{"message","type","code","param"}}.
type apiError struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Code    string  `json:"code"`
	Param   *string `json:"param"`
}

func errorBody(typ, code, msg, param string) apiError {
	e := apiError{Error: errorDetail{Message: msg, Type: typ, Code: code}}
	if param != "" {
		e.Error.Param = &param
	}
	return e
}

func badRequest(code, msg, param string) result {
	return result{status: http.StatusBadRequest, body: errorBody("invalid_request_error", code, msg, param)}
}

func notFound(msg string) result {
	return result{status: http.StatusNotFound, body: errorBody(typeNotFound, "resource_not_found", msg, "")}
}

func paymentRequired(code, msg string) result {
	return result{status: http.StatusPaymentRequired, body: errorBody(typeInsufficientCredits, code, msg, "")}
}

// rawBody is a body written as is (fault injection's malformed bodies).
type rawBody []byte

// sseBody is a body sent as server-sent events, each flushed as it is written,
// then "data: [DONE]".
type sseBody []sseEvent

// sseEvent is one named event and its JSON data.
type sseEvent struct {
	name string
	data any
}

// writeSSE writes evs as text/event-stream, flushing after every event.
func writeSSE(w http.ResponseWriter, status int, evs sseBody) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	fl, _ := w.(http.Flusher)
	for _, ev := range evs {
		data, err := json.Marshal(ev.data)
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, data); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// bearer extracts the key, or returns the documented 401 body.
func bearer(r *http.Request) (string, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		e := errorBody("authentication_error", "missing_api_key",
			"No API key provided. Include your key in the Authorization header: 'Authorization: Bearer mvra_live_…'.", "")
		return "", &e
	}
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || !wellFormedKey(key) {
		// The message never repeats the key.
		e := errorBody("authentication_error", "invalid_api_key",
			"Invalid API key. Keys start with mvra_live_ and are created in Settings > Developer > API Keys.", "")
		return "", &e
	}
	return key, nil
}

// wellFormedKey checks the key format (assumptions.go).
func wellFormedKey(k string) bool {
	if len(k) < MinKeyLength || len(k) > 256 || !strings.HasPrefix(k, KeyPrefix) {
		return false
	}
	for i := len(KeyPrefix); i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
