package model

import (
	"cmp"
	"slices"
	"strings"
)

// Order is an order the gauges list workspaces in.
type Order uint8

const (
	// ByUse lists the most used first (CompareByUse).
	ByUse Order = iota
	// ByName lists workspaces by name.
	ByName
	// ByCredits lists the most credits used first, ties as ByUse.
	ByCredits
)

// useKey is what CompareByUse compares, kept per workspace so the ledger can
// find where a workspace stood before a change moved it.
type useKey struct {
	exhausted, hasCap bool
	percent           float64
	used              int64
	name              string
}

func compareUseKeys(a, b useKey) int {
	if c := cmp.Compare(b2i(b.exhausted), b2i(a.exhausted)); c != 0 {
		return c
	}
	if c := cmp.Compare(b2i(b.hasCap), b2i(a.hasCap)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.percent, a.percent); c != 0 {
		return c
	}
	if c := cmp.Compare(b.used, a.used); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

func compareCreditKeys(a, b useKey) int {
	if c := cmp.Compare(b.used, a.used); c != 0 {
		return c
	}
	return compareUseKeys(a, b)
}

func (l *Ledger) useKeyOf(w *wsState) useKey {
	st := w.status(l.defaults)
	return useKey{exhausted: st.Level == LevelExhausted, hasCap: st.HasCap(), percent: st.Percent, used: w.used, name: w.name}
}

// rerank moves w to where its usage now puts it: a binary search for where it
// stood, one for where it goes, and a shift of the workspaces in between, so
// an event costs O(log n + how far the workspace moves), never a sort. Every
// change to a workspace's settings, used, recharged or blocked must end with it.
func (l *Ledger) rerank(w *wsState) {
	if l.bulk {
		return // Seed sorts once at its end
	}
	k := l.useKeyOf(w)
	if !w.ranked {
		i, _ := slices.BinarySearchFunc(l.byUse, k, compareUseKeys)
		l.byUse = slices.Insert(l.byUse, i, k)
		i, _ = slices.BinarySearchFunc(l.byCredits, k, compareCreditKeys)
		l.byCredits = slices.Insert(l.byCredits, i, k)
		j, _ := slices.BinarySearch(l.byName, w.name)
		l.byName = slices.Insert(l.byName, j, w.name)
		w.key, w.ranked = k, true
		return
	}
	if k == w.key {
		return
	}
	if !move(l.byUse, w.key, k, compareUseKeys) || !move(l.byCredits, w.key, k, compareCreditKeys) {
		l.rankAll() // a change that skipped rerank: start the orders afresh
		return
	}
	w.key = k
}

// move replaces old by k in the sorted keys, shifting the keys in between; it
// reports false when old is not there.
func move(keys []useKey, old, k useKey, compare func(a, b useKey) int) bool {
	i, found := slices.BinarySearchFunc(keys, old, compare)
	if !found {
		return false
	}
	if compare(k, old) < 0 { // moves up: shift [j, i) down one
		j, _ := slices.BinarySearchFunc(keys[:i], k, compare)
		copy(keys[j+1:i+1], keys[j:i])
		keys[j] = k
	} else { // moves down: shift (i, j) up one
		j, _ := slices.BinarySearchFunc(keys[i+1:], k, compare)
		j += i + 1
		copy(keys[i:j-1], keys[i+1:j])
		keys[j-1] = k
	}
	return true
}

// rankAll rebuilds both orders from scratch (after a Seed).
func (l *Ledger) rankAll() {
	l.bulk = false
	l.byUse, l.byName = l.byUse[:0], l.byName[:0]
	for _, w := range l.ws {
		w.key, w.ranked = l.useKeyOf(w), true
		l.byUse = append(l.byUse, w.key)
		l.byName = append(l.byName, w.name)
	}
	slices.SortFunc(l.byUse, compareUseKeys)
	l.byCredits = append(l.byCredits[:0], l.byUse...)
	slices.SortFunc(l.byCredits, compareCreditKeys)
	slices.Sort(l.byName)
}

// Ordered appends to dst the names of the workspaces at positions [from, to)
// of order o (clipped to the workspaces there are). It costs to − from, not
// the number of workspaces: the orders are kept as events arrive.
func (l *Ledger) Ordered(o Order, from, to int, dst []string) []string {
	from, to = max(from, 0), min(to, len(l.byName))
	for i := from; i < to; i++ {
		switch o {
		case ByName:
			dst = append(dst, l.byName[i])
		case ByCredits:
			dst = append(dst, l.byCredits[i].name)
		default:
			dst = append(dst, l.byUse[i].name)
		}
	}
	return dst
}

// Position returns where ws stands in order o, -1 for a workspace the ledger
// does not have. O(log n).
func (l *Ledger) Position(o Order, ws string) int {
	w := l.ws[ws]
	if w == nil || !w.ranked {
		return -1
	}
	switch o {
	case ByName:
		i, _ := slices.BinarySearch(l.byName, ws)
		return i
	case ByCredits:
		i, _ := slices.BinarySearchFunc(l.byCredits, w.key, compareCreditKeys)
		return i
	}
	i, _ := slices.BinarySearchFunc(l.byUse, w.key, compareUseKeys)
	return i
}

// CompareIn compares two workspaces the ledger has by order o (as Ordered
// lists them), for sorting a subset such as a filter's matches.
func (l *Ledger) CompareIn(o Order, a, b string) int {
	if o == ByName {
		return strings.Compare(a, b)
	}
	wa, wb := l.ws[a], l.ws[b]
	if wa == nil || wb == nil {
		return cmp.Compare(b2i(wa == nil), b2i(wb == nil))
	}
	if o == ByCredits {
		return compareCreditKeys(wa.key, wb.key)
	}
	return compareUseKeys(wa.key, wb.key)
}
