package feed

import (
	"strconv"

	"mavtop/model"
)

// The settings hash holds one JSON object per workspace and project, 100k of
// them at 100k workspaces, and encoding/json took most of the time a start-up
// or mavtop check spent on them (reflection, a []byte copy of each value). The
// scanners below read the form json.Marshal writes — the settings store's and
// every producer's: the fields in declaration order, no spaces, integers only
// — without reflection or allocation; any other form (spaces, other key order,
// unknown or repeated keys, null, floats, out-of-range numbers) is left to
// encoding/json, so what is accepted or refused, and the error said, is
// exactly encoding/json's. Validation follows either way.

// settingsFields are model.Settings' JSON keys in declaration order (the order
// json.Marshal writes them).
var settingsFields = [...]string{"allocation", "usage_limit", "budget_alert", "alerts", "recharge_below", "recharge_amount", "raised_at", "limit_raised_at", "limit_raised_from"}

// budgetFields are model.ProjectBudget's, likewise.
var budgetFields = [...]string{"budget_alert", "usage_limit", "raised_at", "raised_from"}

// scanSettings reads raw in json.Marshal's form of model.Settings; ok is
// false when raw is in any other form (which does not mean it is invalid).
func scanSettings(raw string) (s model.Settings, ok bool) {
	ok = scanObject(raw, settingsFields[:], func(field int, sc scanner) (scanner, bool) {
		if field == 3 {
			alerts, good := sc.ints()
			s.Alerts = alerts
			return sc, good
		}
		n, good := sc.int64()
		switch field {
		case 0:
			s.Allocation = n
		case 1:
			s.UsageLimit = n
		case 2:
			s.BudgetAlert = n
		case 4:
			s.RechargeBelow = n
		case 5:
			s.RechargeAmount = n
		case 6:
			s.RaisedAt = n
		case 7:
			s.LimitRaisedAt = n
		case 8:
			s.LimitRaisedFrom = n
		}
		return sc, good
	})
	if !ok {
		return model.Settings{}, false
	}
	return s, true
}

// scanBudget is scanSettings for model.ProjectBudget.
func scanBudget(raw string) (b model.ProjectBudget, ok bool) {
	ok = scanObject(raw, budgetFields[:], func(field int, sc scanner) (scanner, bool) {
		n, good := sc.int64()
		switch field {
		case 0:
			b.Alert = n
		case 1:
			b.Limit = n
		case 2:
			b.RaisedAt = n
		case 3:
			b.RaisedFrom = n
		}
		return sc, good
	})
	if !ok {
		return model.ProjectBudget{}, false
	}
	return b, true
}

// scanObject reads raw as one JSON object whose keys are among fields, each at
// most once and in their order, with no spaces anywhere; value reads the value
// of fields[i] (false: not in the fast form) from the scanner it is given and
// returns it past the value: by value, not by pointer, so that the scanner
// stays on the stack (a pointer given to value moved it to the heap, an
// allocation for each of 100k settings).
func scanObject(raw string, fields []string, value func(field int, sc scanner) (scanner, bool)) bool {
	sc := scanner{s: raw}
	if !sc.lit('{') {
		return false
	}
	if sc.lit('}') {
		return sc.i == len(sc.s)
	}
	next := 0 // fields before next were written or skipped: a key repeated or out of order is not the fast form
	for {
		key, ok := sc.key()
		if !ok {
			return false
		}
		i := next
		for i < len(fields) && fields[i] != key {
			i++
		}
		if i == len(fields) || !sc.lit(':') {
			return false
		}
		if sc, ok = value(i, sc); !ok {
			return false
		}
		next = i + 1
		switch {
		case sc.lit(','):
		case sc.lit('}'):
			return sc.i == len(sc.s)
		default:
			return false
		}
	}
}

// scanner walks a string; every method leaves i past what it read.
type scanner struct {
	s string
	i int
}

func (sc *scanner) lit(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// key reads a quoted key of lowercase letters and underscores (every key
// scanObject knows); anything else (escapes, other characters) is not the fast form.
func (sc *scanner) key() (string, bool) {
	if !sc.lit('"') {
		return "", false
	}
	start := sc.i
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '"':
			k := sc.s[start:sc.i]
			sc.i++
			return k, true
		case c >= 'a' && c <= 'z' || c == '_':
			sc.i++
		default:
			return "", false
		}
	}
	return "", false
}

// number reads a JSON integer as json.Marshal writes one (-?(0|[1-9][0-9]*),
// no fraction or exponent) and parses it into bits bits; false when it is in
// any other form or out of range (encoding/json then says why).
func (sc *scanner) number(bits int) (int64, bool) {
	start := sc.i
	sc.lit('-')
	digits := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
		sc.i++
	}
	switch {
	case sc.i == digits, sc.s[digits] == '0' && sc.i-digits > 1:
		return 0, false
	case sc.i < len(sc.s) && (sc.s[sc.i] == '.' || sc.s[sc.i] == 'e' || sc.s[sc.i] == 'E'):
		return 0, false
	}
	n, err := strconv.ParseInt(sc.s[start:sc.i], 10, bits)
	return n, err == nil
}

func (sc *scanner) int64() (int64, bool) { return sc.number(64) }

// ints reads a non-empty array of integers ([] and null are left to
// encoding/json: they differ in whether the slice is nil).
func (sc *scanner) ints() ([]int, bool) {
	if !sc.lit('[') {
		return nil, false
	}
	var out []int
	for {
		n, ok := sc.number(strconv.IntSize)
		if !ok {
			return nil, false
		}
		out = append(out, int(n))
		switch {
		case sc.lit(','):
		case sc.lit(']'):
			return out, true
		default:
			return nil, false
		}
	}
}
