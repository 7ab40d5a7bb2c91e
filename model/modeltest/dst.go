package modeltest

import (
	"archive/zip"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"mavtop/model"
)

// MidnightChange is a change of a zone's UTC offset that happens at local
// midnight: the clock jumps from 00:00 to 01:00 (midnight never happens), from
// 24:00 back to 23:00, or from 01:00 back to 00:00 (midnight happens twice).
type MidnightChange struct {
	// Zone is the IANA name, "America/Santiago".
	Zone string
	// At is the instant of the change.
	At time.Time
	// Day is the local date (at midnight, in UTC for its fields) whose
	// midnight the change touches.
	Day time.Time
	// Before and After are the UTC offsets in seconds either side of At.
	Before, After int
}

// ZoneNames lists every zone of the tz database Go ships
// ($(go env GOROOT)/lib/time/zoneinfo.zip), else of /usr/share/zoneinfo. The
// error says why neither could be read.
func ZoneNames() ([]string, error) {
	var names []string
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		if z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip")); err == nil {
			for _, f := range z.File {
				if !strings.HasSuffix(f.Name, "/") {
					names = append(names, f.Name)
				}
			}
			z.Close()
		}
	}
	if len(names) == 0 {
		root := "/usr/share/zoneinfo"
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			name, _ := filepath.Rel(root, p)
			// the database's other files and its copies (posix/, right/)
			if first, _, _ := strings.Cut(name, "/"); first == "posix" || first == "right" || strings.Contains(name, ".") || !strings.ContainsAny(name[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && strings.HasPrefix(string(b), "TZif") {
				names = append(names, name)
			}
			return nil
		})
	}
	if len(names) == 0 {
		return nil, errors.New("no tz database: neither $(go env GOROOT)/lib/time/zoneinfo.zip nor /usr/share/zoneinfo")
	}
	slices.Sort(names)
	return names, nil
}

// MidnightChanges returns every offset change at local midnight in the years
// [from, to) of every zone ZoneNames lists that loads, in zone and time order.
func MidnightChanges(from, to int) ([]MidnightChange, error) {
	names, err := ZoneNames()
	if err != nil {
		return nil, err
	}
	end := time.Date(to, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []MidnightChange
	for _, name := range names {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		t := time.Date(from, 1, 1, 0, 0, 0, 0, time.UTC).In(loc)
		for t.Before(end) {
			_, ze := model.ZoneBounds(t)
			if ze.IsZero() || !ze.Before(end) {
				break
			}
			_, before := ze.Add(-time.Second).Zone()
			_, after := ze.Zone()
			for _, off := range []int{before, after} {
				clock := ze.Add(time.Duration(off) * time.Second).UTC()
				if before != after && clock.Hour() == 0 && clock.Minute() == 0 && clock.Second() == 0 {
					out = append(out, MidnightChange{Zone: name, At: ze, Day: clock, Before: before, After: after})
					break
				}
			}
			t = ze.In(loc)
		}
	}
	return out, nil
}
