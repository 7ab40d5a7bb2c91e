package model

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAnUnreadablePeriodConfigIsOneJudgement: ParsePeriodConfig is the one
// reading of the stored billing-period config. Every value it cannot read is
// a *PeriodConfigError whose reason is sanitised (no control byte, no escape
// sequence) and bounded, and the rule returned is PeriodFallback, calendar
// months in UTC, the rule of an absent config, which every reader and
// producer then uses.
func TestAnUnreadablePeriodConfigIsOneJudgement(t *testing.T) {
	for _, c := range []struct{ raw, reason string }{
		{`start_day=5`, `billing period config start_day=5: not JSON: invalid character 's' looking for beginning of value`},
		{`{"start_day":"5"}`, `billing period config {"start_day":"5"}: start_day holds "5", want an integer 1–28`},
		{`{"start_day":0}`, `billing period config {"start_day":0}: start day 0 must be between 1 and 28`},
		{`{"start_day":29}`, `billing period config {"start_day":29}: start day 29 must be between 1 and 28`},
		{`{"start_day":-1}`, `billing period config {"start_day":-1}: start day -1 must be between 1 and 28`},
		{`{"start_day":5.0}`, `billing period config {"start_day":5.0}: start_day holds 5.0, want an integer 1–28`},
		{`{"start_day":true}`, `billing period config {"start_day":true}: start_day holds true, want an integer 1–28`},
		{`{"start_day":99999999999999999999}`, `billing period config {"start_day":99999999999999999999}: start_day holds 99999999999999999999, want an integer 1–28`},
		{`{"start_day":5,"tz":null}`, `billing period config {"start_day":5,"tz":null}: tz holds null, want a zone name`},
		{`{"start_day":5,"tz":"Mars/Olympus"}`, `billing period config {"start_day":5,"tz":"Mars/Olympus"}: billing period time zone "Mars/Olympus": unknown time zone Mars/Olympus`},
		{`{"tz":"Local"}`, `billing period config {"tz":"Local"}: billing period time zone "Local" is each machine's own zone: name an IANA zone (Europe/Paris)`},
		{`{"start_day":5,"tz":"Europe/Paris\u001b[31m"}`, `billing period config {"start_day":5,"tz":"Europe/Paris\u001b[31m"}: billing period time zone "Europe/Paris␛[31m" is no IANA zone name (like Europe/Paris)`},
		{"{\"start_day\":5,\"tz\":\"\x1b]0;pwned\x07\"}", `billing period config {"start_day":5,"tz":"␛]0;pwned␇"}: not JSON: invalid character '\x1b' in string literal`},
		{"{\"tz\":\"\xff\"}", `billing period config {"tz":"�"} is not UTF-8`},
		{`[5]`, `billing period config [5]: not a JSON object`},
		{`null`, `billing period config null: not a JSON object`},
		{`{"start_day":5} x`, `billing period config {"start_day":5} x: not JSON: invalid character 'x' after top-level value`},
		{`{"start_day":5,"tz":"` + strings.Repeat("\x1b[2J", 80) + `"}`, `billing period config of 343 bytes (over 256): not read`},
		{`{"note":"` + strings.Repeat("x", 100) + `","start_day":29}`, `billing period config {"note":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…[truncated]: start day 29 must be between 1 and 28`},
	} {
		rule, err := ParsePeriodConfig(c.raw)
		var pe *PeriodConfigError
		if !errors.As(err, &pe) {
			t.Errorf("%q: %v; want a *PeriodConfigError", c.raw, err)
			continue
		}
		if rule != PeriodFallback || rule.StartDay != 1 || rule.Location != time.UTC {
			t.Errorf("%q: rule %+v; want the fallback, calendar months in UTC", c.raw, rule)
		}
		if pe.Reason != c.reason {
			t.Errorf("%q: reason\n  %s\nwant\n  %s", c.raw, pe.Reason, c.reason)
		}
		if len(pe.Reason) > MaxPeriodReasonBytes || !IsClean(pe.Reason) || strings.ContainsFunc(pe.Reason, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }) {
			t.Errorf("%q: reason %q is not sanitised and bounded", c.raw, pe.Reason)
		}
		if w := PeriodUnreadableWords(pe.Reason); !strings.HasPrefix(w, "period config unreadable (") || !IsClean(w) {
			t.Errorf("%q: words %q", c.raw, w)
		}
	}
	for raw, want := range map[string]PeriodConfig{
		``:                                     {StartDay: 1},
		`{}`:                                   {StartDay: 1},
		`{"start_day":15,"tz":"Europe/Paris"}`: {StartDay: 15, TZ: "Europe/Paris"},
		`{"start_day":28,"tz":"UTC"}`:          {StartDay: 28},
		`{"START_DAY":15,"note":[1,2]}`:        {StartDay: 1}, // keys match exactly, as in Python
		` {"tz":"Asia/Tokyo"} `:                {StartDay: 1, TZ: "Asia/Tokyo"},
	} {
		rule, err := ParsePeriodConfig(raw)
		if err != nil || rule.Config() != want {
			t.Errorf("%q: %+v, %v; want %+v", raw, rule.Config(), err, want)
		}
	}
}
