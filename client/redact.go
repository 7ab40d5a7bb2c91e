package client

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"mavtop/model"
)

// redactor removes the API key from any text that could leave the client: error
// messages, response excerpts, event messages. A server that echoes the
// Authorization header back must not leak the key into a log or onto the screen.
type redactor struct{ key string }

// masked is how the key appears when it must be named: its last four characters,
// as the Mavera dashboard lists keys.
func (r redactor) masked() string {
	if len(r.key) < 12 {
		return "[redacted]"
	}
	return "mvra_…" + r.key[len(r.key)-4:]
}

// clean returns s with every occurrence of the key (and of its part after the
// prefix, should a server strip it) replaced by the masked form, and passed
// through model.Sanitize: what a server answers is untrusted text on its way
// to a terminal.
func (r redactor) clean(s string) string {
	s = model.Sanitize(s)
	if r.key == "" {
		return s
	}
	s = strings.ReplaceAll(s, r.key, r.masked())
	if rest, ok := strings.CutPrefix(r.key, "mvra_live_"); ok && len(rest) >= 8 {
		s = strings.ReplaceAll(s, rest, "[redacted]")
	}
	return s
}

// snippet returns the start of a body for an error message: at most n bytes, valid
// UTF-8, control characters replaced, the key removed.
func (r redactor) snippet(body []byte, n int) string {
	cut := body
	if len(cut) > n {
		cut = cut[:n]
	}
	for len(cut) > 0 && !utf8.Valid(cut) {
		cut = cut[:len(cut)-1]
	}
	s := strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, string(cut))
	if len(body) > n {
		s += "…"
	}
	return r.clean(s)
}

// Redact returns the cleaning Outcome.Event applies for a producer that holds the
// Authorization of the call ("Bearer KEY" or the key alone): every occurrence of the
// key masked and the text passed through model.Sanitize. `mavtop proxy` uses it for
// the messages upstream answers, which may echo the key back.
func Redact(authorization string) func(string) string {
	key, _ := strings.CutPrefix(authorization, "Bearer ")
	return redactor{key: strings.TrimSpace(key)}.clean
}
