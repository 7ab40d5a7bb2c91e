package estimator

import (
	"fmt"
	"strings"
)

// Operation names a class of API call that costs credits. The same names are used on
// the command line, in the usage stream's `op` field and by the client.
type Operation string

// The operations mavtop can price.
const (
	// Chat is POST /responses (token-based, 1–5 credits).
	Chat Operation = "chat"
	// MaveSimple is a simple Mave research question (POST /mave/chat).
	MaveSimple Operation = "mave-simple"
	// MaveModerate is a moderately complex Mave research question.
	MaveModerate Operation = "mave-moderate"
	// MaveComplex is a complex Mave research question.
	MaveComplex Operation = "mave-complex"
	// FocusGroup is POST /focus-groups; it needs a sample size and a question count.
	FocusGroup Operation = "focus-group"
	// Video is POST /video-analyses; it needs the video's length in seconds.
	Video Operation = "video"
	// Persona is custom persona creation (POST /personas).
	Persona Operation = "persona"
	// BrandVoice is brand voice creation (POST /brand-voices).
	BrandVoice Operation = "brand-voice"
	// PersonaList is listing personas (GET /personas), which is free.
	PersonaList Operation = "persona-list"
)

// operations is the canonical order, used by Operations, error messages and reports.
var operations = [...]Operation{
	Chat, MaveSimple, MaveModerate, MaveComplex, FocusGroup, Video, Persona, BrandVoice, PersonaList,
}

// Operations returns every operation in a stable order (a fresh slice the caller may keep).
func Operations() []Operation {
	return append([]Operation(nil), operations[:]...)
}

// OperationNames returns the operations as a comma-separated list, for help and errors.
func OperationNames() string {
	names := make([]string, len(operations))
	for i, op := range operations {
		names[i] = string(op)
	}
	return strings.Join(names, ", ")
}

// ParseOperation returns the operation named s. It ignores case and surrounding
// space and accepts underscores for dashes (the seed's Python spells `mave_simple`).
// An unknown name is an error that lists the valid ones.
func ParseOperation(s string) (Operation, error) {
	name := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
	op := Operation(name)
	if op.Valid() {
		return op, nil
	}
	return "", fmt.Errorf("unknown operation %q (valid: %s)", s, OperationNames())
}

// Valid reports whether o is one of the operations mavtop can price.
func (o Operation) Valid() bool {
	for _, known := range operations {
		if o == known {
			return true
		}
	}
	return false
}

// String returns the operation's name.
func (o Operation) String() string { return string(o) }

// Param names an input an operation's price depends on. The names are the command
// line's flag names.
type Param string

// The parameters an operation may take.
const (
	// ParamSampleSize is a focus group's number of respondents.
	ParamSampleSize Param = "sample-size"
	// ParamQuestions is a focus group's number of questions.
	ParamQuestions Param = "questions"
	// ParamSeconds is a video's length in seconds.
	ParamSeconds Param = "seconds"
)

// Params returns the parameters o requires, in flag order; nil when its price is fixed.
func (o Operation) Params() []Param {
	switch o {
	case FocusGroup:
		return []Param{ParamSampleSize, ParamQuestions}
	case Video:
		return []Param{ParamSeconds}
	}
	return nil
}

// Takes reports whether o's price depends on p.
func (o Operation) Takes(p Param) bool {
	for _, q := range o.Params() {
		if q == p {
			return true
		}
	}
	return false
}

// Endpoint returns the API path o calls, as it appears in the usage stream's
// `endpoint` field ("" for an unknown operation).
func (o Operation) Endpoint() string {
	switch o {
	case Chat:
		return "/responses"
	case MaveSimple, MaveModerate, MaveComplex:
		return "/mave/chat"
	case FocusGroup:
		return "/focus-groups"
	case Video:
		return "/video-analyses"
	case Persona, PersonaList:
		return "/personas"
	case BrandVoice:
		return "/brand-voices"
	}
	return ""
}
