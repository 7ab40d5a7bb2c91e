package cmd

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"mavtop/model"
)

// appendRowJSON appends r as json.Marshal(r) writes it, byte for byte, without
// reflection: at 100k workspaces encoding/json took a sixth of check's time.
// A row json.Marshal would refuse (a percent that is not finite) is left to it,
// so the error is its own. TestCheckJSONIsEncodingJSON keeps the two alike and
// fails when wsRow, projectRow, model.Settings or model.ProjectBudget gain a
// field this does not write.
func appendRowJSON(b []byte, r *wsRow) ([]byte, error) {
	start := len(b)
	if r.Unreadable != "" || r.RefusedUnreadable != "" || r.Settings.Unreadable != "" {
		return appendMarshal(b, *r) // its figures null (MarshalJSON): rare
	}
	if !finite(r.Percent) || !finite(r.LimitPercent) {
		return appendMarshal(b, *r)
	}
	for i := range r.Projects {
		if !finite(r.Projects[i].Percent) || r.Projects[i].Budget.UsageUnreadable != "" || r.Projects[i].Budget.Unreadable != "" {
			return appendMarshal(b, *r) // a project's credits unknown: null (projectRow.MarshalJSON)
		}
	}
	b = append(b, `{"workspace":`...)
	b = appendJSONString(b, r.Workspace)
	b = appendJSONInt(b, `,"used":`, r.Used)
	b = appendJSONInt(b, `,"allocation":`, r.Allocation)
	b = appendJSONInt(b, `,"recharged":`, r.Recharged)
	b = appendJSONInt(b, `,"usage_limit":`, r.UsageLimit)
	b = appendJSONInt(b, `,"cap":`, r.Cap)
	b = append(b, `,"cap_kind":`...)
	b = appendJSONString(b, r.CapKind)
	b = append(b, `,"percent":`...)
	b = appendJSONFloat(b, r.Percent)
	b = append(b, `,"limit_percent":`...)
	b = appendJSONFloat(b, r.LimitPercent)
	b = append(b, `,"thresholds":`...)
	b = appendJSONInts(b, r.Thresholds)
	b = append(b, `,"level":`...)
	b = appendJSONString(b, r.Level)
	b = append(b, `,"remaining":`...)
	if r.Remaining == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *r.Remaining, 10)
	}
	b = appendJSONInt(b, `,"refused_402":`, r.Refused)
	b = append(b, `,"has_settings":`...)
	b = strconv.AppendBool(b, r.HasSettings)
	b = append(b, `,"settings":`...)
	b = appendSettingsJSON(b, &r.Settings)
	if r.Check != "" {
		b = append(b, `,"check":`...)
		b = appendJSONString(b, r.Check)
	}
	b = append(b, `,"last_event_at":`...)
	if r.LastEventAt == nil {
		b = append(b, "null"...)
	} else {
		t, err := r.LastEventAt.MarshalJSON()
		if err != nil {
			return appendMarshal(b[:start], *r) // its error, said as json.Marshal says it
		}
		b = append(b, t...)
	}
	if r.LastEventBefore != nil {
		t, err := r.LastEventBefore.MarshalJSON()
		if err != nil {
			return appendMarshal(b[:start], *r)
		}
		b = append(append(b, `,"last_event_before":`...), t...)
	}
	if r.Stale {
		b = append(b, `,"stale":true`...)
	}
	if r.Unreadable != "" {
		b = append(b, `,"unreadable":`...)
		b = appendJSONString(b, r.Unreadable)
	}
	b = append(b, `,"verdict":`...)
	b = appendJSONString(b, r.Verdict)
	if r.VerdictProject != "" {
		b = append(b, `,"verdict_project":`...)
		b = appendJSONString(b, r.VerdictProject)
	}
	if r.LimitReached {
		b = append(b, `,"limit_reached":true`...)
	}
	b = append(b, `,"projects":`...)
	if r.Projects == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Projects {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendProjectJSON(b, &r.Projects[i])
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func appendProjectJSON(b []byte, p *projectRow) []byte {
	b = append(b, `{"project":`...)
	b = appendJSONString(b, p.Project)
	b = appendJSONInt(b, `,"used":`, p.Used)
	b = append(b, `,"budget":{`...)
	comma := false
	if p.Budget.Alert != 0 {
		b = appendJSONInt(b, `"budget_alert":`, p.Budget.Alert)
		comma = true
	}
	if p.Budget.Limit != 0 {
		if comma {
			b = append(b, ',')
		}
		b = appendJSONInt(b, `"usage_limit":`, p.Budget.Limit)
		comma = true
	}
	if p.Budget.RaisedAt != 0 {
		if comma {
			b = append(b, ',')
		}
		b = appendJSONInt(b, `"raised_at":`, p.Budget.RaisedAt)
	}
	b = append(b, `},"has_budget":`...)
	b = strconv.AppendBool(b, p.HasBudget)
	b = append(b, `,"percent":`...)
	b = appendJSONFloat(b, p.Percent)
	b = append(b, `,"level":`...)
	b = appendJSONString(b, p.Level)
	b = appendJSONInt(b, `,"refused_402":`, p.Refused)
	if p.Check != "" {
		b = append(b, `,"check":`...)
		b = appendJSONString(b, p.Check)
	}
	return append(b, '}')
}

// appendSettingsJSON writes model.Settings with its omitempty fields left out.
func appendSettingsJSON(b []byte, s *model.Settings) []byte {
	b = appendJSONInt(b, `{"allocation":`, s.Allocation)
	if s.UsageLimit != 0 {
		b = appendJSONInt(b, `,"usage_limit":`, s.UsageLimit)
	}
	if s.BudgetAlert != 0 {
		b = appendJSONInt(b, `,"budget_alert":`, s.BudgetAlert)
	}
	if len(s.Alerts) > 0 {
		b = append(b, `,"alerts":`...)
		b = appendJSONInts(b, s.Alerts)
	}
	if s.RechargeBelow != 0 {
		b = appendJSONInt(b, `,"recharge_below":`, s.RechargeBelow)
	}
	if s.RechargeAmount != 0 {
		b = appendJSONInt(b, `,"recharge_amount":`, s.RechargeAmount)
	}
	if s.RaisedAt != 0 {
		b = appendJSONInt(b, `,"raised_at":`, s.RaisedAt)
	}
	if s.LimitRaisedAt != 0 {
		b = appendJSONInt(b, `,"limit_raised_at":`, s.LimitRaisedAt)
	}
	return append(b, '}')
}

// MarshalJSON writes the row as its fields say, except for a workspace with
// a figure that cannot be read (Unreadable): then each figure the model
// could not know (model.Status.Unknown) — used, recharged, cap, percent,
// limit_percent, remaining, refused_402, and with the used counter each
// project's used, percent and refused_402; allocation and usage_limit with
// the settings — is null, never a 0 a script would take for a reading;
// "unreadable" says which key or field and why. The figures it cannot
// change stay. Settings present but unreadable (model.Settings.Unreadable)
// are "settings": null, and a project's budget that cannot be read
// (model.ProjectBudget.Unreadable) "budget": null: never the zero value
// the decoder left ("allocation":0 for an allocation of -100 or 1e3).
//
// A value method, so that a row is written alike whether it is marshalled
// on its own, by pointer or in a slice (and a row json.Marshal refuses is
// refused with the same words: appendRowJSON leaves such rows to it).
func (r wsRow) MarshalJSON() ([]byte, error) {
	type plain wsRow // without this method
	if r.Unreadable == "" && r.Settings.Unreadable != "" {
		// the model marks a workspace with unreadable settings unreadable
		// (Status.Unknown); should a row come without it, its settings
		// are still no reading
		r.Unreadable = r.Settings.Unreadable
	}
	if r.Unreadable == "" && r.RefusedUnreadable != "" {
		// only its 402 count is unknown: null, the rest as read
		return json.Marshal(struct {
			*plain
			Refused *int64 `json:"refused_402"`
		}{plain: (*plain)(&r)})
	}
	if r.Unreadable == "" {
		return json.Marshal(plain(r))
	}
	type unknownProject struct {
		plainProject
		Budget  *model.ProjectBudget `json:"budget"`
		Used    *int64               `json:"used"`
		Percent *float64             `json:"percent"`
		Refused *int64               `json:"refused_402"`
	}
	// each figure the model could not know null (model.Status.Unknown), the
	// others as read
	var projects []unknownProject
	if r.Projects != nil {
		projects = make([]unknownProject, len(r.Projects))
		for i := range r.Projects {
			p := &projects[i]
			p.plainProject = plainProject(r.Projects[i])
			if r.Projects[i].Budget.Unreadable == "" {
				p.Budget = &r.Projects[i].Budget
			}
			if !r.unknown.Has(model.FigUsed) && r.Projects[i].Budget.UsageUnreadable == "" {
				p.Used, p.Percent, p.Refused = &r.Projects[i].Used, &r.Projects[i].Percent, &r.Projects[i].Refused
				if p.Budget == nil {
					p.Percent = nil // of a usage limit that cannot be read
				}
			}
		}
	}
	known := func(f model.Figures) bool { return !r.unknown.Has(f) }
	var out struct {
		*plain
		Settings     *model.Settings  `json:"settings"`
		Allocation   *int64           `json:"allocation"`
		UsageLimit   *int64           `json:"usage_limit"`
		Used         *int64           `json:"used"`
		Recharged    *int64           `json:"recharged"`
		Cap          *int64           `json:"cap"`
		Percent      *float64         `json:"percent"`
		LimitPercent *float64         `json:"limit_percent"`
		Remaining    *int64           `json:"remaining"`
		Refused      *int64           `json:"refused_402"`
		Projects     []unknownProject `json:"projects"`
	}
	out.plain, out.Projects = (*plain)(&r), projects
	// settings present but unreadable: the allocation and limit are unknown
	// too (model.Settings.Unreadable), not 0
	if r.Settings.Unreadable == "" {
		out.Allocation, out.UsageLimit, out.Settings = &r.Allocation, &r.UsageLimit, &r.Settings
	}
	if known(model.FigUsed) {
		out.Used = &r.Used
		if r.RefusedUnreadable == "" {
			out.Refused = &r.Refused
		}
	}
	if known(model.FigRecharged) {
		out.Recharged = &r.Recharged
	}
	if known(model.FigCap) {
		out.Cap = &r.Cap
	}
	if known(model.FigPercent) {
		out.Percent, out.Remaining = &r.Percent, r.Remaining
	}
	if known(model.FigLimit) {
		out.LimitPercent = &r.LimitPercent
	}
	return json.Marshal(out)
}

// plainProject is projectRow as its fields say (for wsRow.MarshalJSON).
type plainProject projectRow

// MarshalJSON writes the project as its fields say, except for a project
// whose credits cannot be read (model.ProjectBudget.UsageUnreadable): its
// used and percent are null, never a 0 a script would take for a reading, and
// "unreadable" says which key or field and why.
//
// A budget present but unreadable (model.ProjectBudget.Unreadable) is
// "budget": null, never the empty budget the decoder left, and so is its
// percent (of a usage limit not known; "percent":0 read as a reading); its
// used stays as read.
func (p projectRow) MarshalJSON() ([]byte, error) {
	var budget *model.ProjectBudget
	if p.Budget.Unreadable == "" {
		if p.Budget.UsageUnreadable == "" {
			return json.Marshal(plainProject(p))
		}
		budget = &p.Budget
	}
	if p.Budget.UsageUnreadable == "" {
		return json.Marshal(struct {
			*plainProject
			Budget  *model.ProjectBudget `json:"budget"`
			Percent *float64             `json:"percent"`
		}{plainProject: (*plainProject)(&p), Budget: budget})
	}
	return json.Marshal(struct {
		*plainProject
		Budget     *model.ProjectBudget `json:"budget"`
		Used       *int64               `json:"used"`
		Percent    *float64             `json:"percent"`
		Unreadable string               `json:"unreadable"`
	}{plainProject: (*plainProject)(&p), Budget: budget, Unreadable: p.Budget.UsageUnreadable})
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	js, err := json.Marshal(v)
	return append(b, js...), err
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

func appendJSONInt(b []byte, key string, n int64) []byte {
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendJSONInts writes a []int: null when nil, as encoding/json does.
func appendJSONInts(b []byte, ns []int) []byte {
	if ns == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

// appendJSONFloat writes a finite float64 as encoding/json does (ES6 number
// formatting: exponent below 1e-6 and from 1e21, "e-7" not "e-07").
func appendJSONFloat(b []byte, f float64) []byte {
	if f == 0 && !math.Signbit(f) {
		// strconv's shortest form of +0, without its work: every row's
		// limit_percent without a usage limit, and the percent of each
		// workspace with nothing used
		return append(b, '0')
	}
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const jsonHex = "0123456789abcdef"

// appendJSONString writes s quoted as json.Marshal does (HTML characters
// escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped).
// jsonPlain holds the bytes appendJSONString writes as they are: ASCII from
// space on but for '"', '\\', '<', '>' and '&' (encoding/json's HTML-safe
// set).
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	// the plain bytes before the first one that is not (every name and
	// word check writes is plain): one lookup a byte, then copied at once
	i := 0
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
