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
		j, _ := slices.BinarySearch(l.byName, w.name)
		l.byName = slices.Insert(l.byName, j, w.name)
		w.key, w.ranked = k, true
		return
	}
	if k == w.key {
		return
	}
	i, found := slices.BinarySearchFunc(l.byUse, w.key, compareUseKeys)
	if !found { // a change that skipped rerank: start the order afresh
		l.rankAll()
		return
	}
	if compareUseKeys(k, w.key) < 0 { // moves up: shift [j, i) down one
		j, _ := slices.BinarySearchFunc(l.byUse[:i], k, compareUseKeys)
		copy(l.byUse[j+1:i+1], l.byUse[j:i])
		l.byUse[j] = k
	} else { // moves down: shift (i, j) up one
		j, _ := slices.BinarySearchFunc(l.byUse[i+1:], k, compareUseKeys)
		j += i + 1
		copy(l.byUse[i:j-1], l.byUse[i+1:j])
		l.byUse[j-1] = k
	}
	w.key = k
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
	slices.Sort(l.byName)
}

// Ordered appends to dst the names of the workspaces at positions [from, to)
// of order o (clipped to the workspaces there are). It costs to − from, not
// the number of workspaces: the orders are kept as events arrive.
func (l *Ledger) Ordered(o Order, from, to int, dst []string) []string {
	from, to = max(from, 0), min(to, len(l.byName))
	for i := from; i < to; i++ {
		if o == ByName {
			dst = append(dst, l.byName[i])
		} else {
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
	if o == ByName {
		i, _ := slices.BinarySearch(l.byName, ws)
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
	return compareUseKeys(wa.key, wb.key)
}
