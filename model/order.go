package model

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
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
	// ByRefused lists the most 402s this period first, ties as ByUse.
	ByRefused
	// ByLastEvent lists the newest last event first, ties as ByUse.
	ByLastEvent
	numOrders
)

// rankKey is what the orders compare, kept per workspace so the ledger can
// find where a workspace stood before a change moved it.
type rankKey struct {
	exhausted, hasCap bool
	percent           float64
	used              int64
	refused           int64
	lastTS            int64
	name              string
}

func compareUseKeys(a, b rankKey) int {
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

// orderCompare is each order's comparison; every one ends in the name, so no
// two workspaces compare equal and a key is found where it was put.
var orderCompare = [numOrders]func(a, b rankKey) int{
	ByUse:  compareUseKeys,
	ByName: func(a, b rankKey) int { return strings.Compare(a.name, b.name) },
	ByCredits: func(a, b rankKey) int {
		return cmp.Or(cmp.Compare(b.used, a.used), compareUseKeys(a, b))
	},
	ByRefused: func(a, b rankKey) int {
		return cmp.Or(cmp.Compare(b.refused, a.refused), compareUseKeys(a, b))
	},
	ByLastEvent: func(a, b rankKey) int {
		return cmp.Or(cmp.Compare(b.lastTS, a.lastTS), compareUseKeys(a, b))
	},
}

func (l *Ledger) rankKeyOf(w *wsState) rankKey {
	st := w.status(l.defaults)
	exhausted := st.Level == LevelExhausted
	hasCap, percent := st.HasCap(), st.Percent
	if w.limits || w.refused[RefusedBudget] > 0 {
		v := l.verdict(w, st) // as the row shows it (CompareByUse)
		exhausted = v.Level == LevelExhausted
		hasCap, percent = v.rankCap(&v.Status)
	}
	return rankKey{exhausted: exhausted, hasCap: hasCap, percent: percent,
		used: w.used, refused: w.refused.Total(), lastTS: w.lastTS, name: w.name}
}

// rerank moves w to where its counters now put it in every order: a removal
// and an insertion in blocks of at most 2×rankBlock keys, so an event costs
// O(log n + rankBlock + n/rankBlock), never a sort, however far the workspace
// moves (a new last event moves it to the top of ByLastEvent). Every change to
// a workspace's settings, used, recharged, refused, last event or blocked must
// end with it.
func (l *Ledger) rerank(w *wsState) {
	if l.bulk {
		return // Seed sorts once at its end
	}
	k := l.rankKeyOf(w)
	if w.ranked && k == w.key {
		return
	}
	for o := range l.orders {
		r := &l.orders[o]
		if !r.built {
			continue // made when first asked for
		}
		if w.ranked {
			if Order(o) == ByName {
				continue // a name does not change
			}
			if !r.remove(w.key, l.owner) {
				l.rankAll() // a change that skipped rerank: start the orders afresh
				return
			}
		}
		r.insert(k, l.owner)
	}
	w.key, w.ranked = k, true
}

// rankAll gives every workspace its key afresh (after a Seed) and drops the
// orders: each is sorted again when first asked for, so a ledger that is never
// listed in some order (mavtop check's, the hub's) never sorts in it.
func (l *Ledger) rankAll() {
	l.bulk = false
	for _, w := range l.ws {
		// a state shared with a clone (a viewer's copy of the hub's ledger)
		// is read by the other ledger meanwhile: copied before its key
		// changes, never written in place (the race detector saw the hub's
		// SeedUsedBy write keys a viewer's Ordered read)
		if k := l.rankKeyOf(w); !w.ranked || w.key != k {
			w = l.own(w)
			w.key, w.ranked = k, true
		}
	}
	for o := range l.orders {
		l.orders[o] = rankList{}
	}
}

// DropOrders forgets the orders kept as events arrive; each is sorted again
// when first asked for. A ledger nobody lists workspaces from (the alert
// watcher's copy of the hub's) then does not move every changed workspace in
// each order at every event, nor copy the order blocks it shares with the
// hub's ledger (at 100k workspaces and 1,000 events/s, ~40 % of its Apply).
func (l *Ledger) DropOrders() {
	for o := range l.orders {
		l.orders[o] = rankList{}
	}
}

// order returns order o, sorting it first if it is not kept yet.
func (l *Ledger) order(o Order) *rankList {
	if o >= numOrders {
		o = ByUse
	}
	r := &l.orders[o]
	if !r.built {
		if l.bulk {
			l.rankAll()
		}
		keys := make([]rankKey, 0, len(l.ws))
		for _, w := range l.ws {
			if !w.ranked {
				w = l.own(w) // as in rankAll: never write a shared state
				w.key, w.ranked = l.rankKeyOf(w), true
			}
			keys = append(keys, w.key)
		}
		slices.SortFunc(keys, orderCompare[o])
		r.cmp, r.built = orderCompare[o], true
		r.build(keys, l.owner)
	}
	return r
}

// Ordered appends to dst the names of the workspaces at positions [from, to)
// of order o (clipped to the workspaces there are). It costs to − from plus
// the number of blocks, not the number of workspaces: the orders are kept as
// events arrive.
//
// The first time an order not kept yet is listed, and only a few rows from
// its top (to ≤ peekRows, a screenful), those rows are picked from every
// workspace without sorting them all (O(n), not O(n log n)): a dashboard's
// first frame lists ~40 of 100k workspaces, and sorting them all was ~150 ms
// of its CPU before it could draw (issue 16). The next listing sorts the
// order and keeps it. Either way the rows are the same.
func (l *Ledger) Ordered(o Order, from, to int, dst []string) []string {
	if o >= numOrders {
		o = ByUse
	}
	if r := &l.orders[o]; !r.built && !r.peeked && to > 0 && to <= peekRows && to*peekShare <= len(l.ws) {
		r.peeked = true
		return l.peek(o, max(from, 0), to, dst)
	}
	return l.order(o).names(max(from, 0), to, dst)
}

// peekRows and peekShare bound when Ordered picks the top rows instead of
// sorting: a listing of at most peekRows rows, from a ledger of at least
// peekShare times as many workspaces.
const (
	peekRows  = 512
	peekShare = 8
)

// peek appends to dst the names at positions [from, to) of order o, which
// is not kept, by keeping the to first keys met in order (an insertion into
// a sorted slice of at most to keys, most keys compared once with its last).
func (l *Ledger) peek(o Order, from, to int, dst []string) []string {
	if l.bulk {
		l.rankAll()
	}
	cmpf := orderCompare[o]
	top := make([]rankKey, 0, to+1)
	for _, w := range l.ws {
		if !w.ranked {
			w = l.own(w) // as in order: never write a shared state
			w.key, w.ranked = l.rankKeyOf(w), true
		}
		if len(top) == to && cmpf(w.key, top[to-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, w.key, cmpf)
		top = slices.Insert(top, i, w.key)
		if len(top) > to {
			top = top[:to]
		}
	}
	for _, k := range top[min(from, len(top)):] {
		dst = append(dst, k.name)
	}
	return dst
}

// Position returns where ws stands in order o, -1 for a workspace the ledger
// does not have.
func (l *Ledger) Position(o Order, ws string) int {
	w := l.ws[ws]
	if w == nil || !w.ranked {
		return -1
	}
	return l.order(o).index(w.key)
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
	if o >= numOrders {
		o = ByUse
	}
	return orderCompare[o](wa.key, wb.key)
}

// rankBlock is the size a block of an order is cut to; a block splits at
// twice that. At 100k workspaces an order is ~400 blocks: finding a position
// walks their lengths, a move shifts at most one block's keys.
const rankBlock = 256

// rankSlack is the room a copied block has for keys moving in (see own).
const rankSlack = 16

// rankList is one order: sorted keys in sorted blocks. Blocks are shared
// between a ledger and its clones and copied by the first to change one, like
// workspace states, so a clone costs the block pointers only.
type rankList struct {
	cmp    func(a, b rankKey) int
	blocks []*keyBlock
	n      int
	built  bool // kept as events arrive since it was first asked for
	// peeked: Ordered picked its top rows once without sorting (peek); the
	// next listing sorts
	peeked bool
}

type keyBlock struct {
	owner uint64
	keys  []rankKey
	// version is new whenever keys change (from blockVersions, unique in the
	// process, so two ledgers' blocks never share one with other keys): what
	// a reader counted in a block holds while its version does.
	version uint64
}

// blockVersions numbers the versions of every order block of every ledger.
var blockVersions atomic.Uint64

func (b *keyBlock) changed() { b.version = blockVersions.Add(1) }

// OrderBlock is one block of an order (Ledger.OrderBlocks): Len workspaces in
// a row of the order, and a Version that changes whenever they do, so a
// reader can keep what it derived from a block (a filter's matches in it)
// until its version changes.
type OrderBlock struct {
	Version uint64
	Len     int
}

// OrderBlocks appends to dst the blocks of order o, first to last: their
// lengths add up to Len. It costs the number of blocks (~n/256).
func (l *Ledger) OrderBlocks(o Order, dst []OrderBlock) []OrderBlock {
	for _, b := range l.order(o).blocks {
		dst = append(dst, OrderBlock{Version: b.version, Len: len(b.keys)})
	}
	return dst
}

// BlockNames appends to dst the names in block i of order o (as OrderBlocks
// lists them; none for an i out of range), in the order's order.
func (l *Ledger) BlockNames(o Order, i int, dst []string) []string {
	r := l.order(o)
	if i < 0 || i >= len(r.blocks) {
		return dst
	}
	for _, k := range r.blocks[i].keys {
		dst = append(dst, k.name)
	}
	return dst
}

func (r *rankList) clone() rankList {
	return rankList{cmp: r.cmp, blocks: slices.Clone(r.blocks), n: r.n, built: r.built, peeked: r.peeked}
}

func (r *rankList) build(sorted []rankKey, owner uint64) {
	r.blocks, r.n = r.blocks[:0], len(sorted)
	for i := 0; i < len(sorted); i += rankBlock {
		keys := make([]rankKey, min(rankBlock, len(sorted)-i), 2*rankBlock+1)
		copy(keys, sorted[i:])
		r.blocks = append(r.blocks, &keyBlock{owner: owner, keys: keys})
		r.blocks[len(r.blocks)-1].changed()
	}
}

// block returns the first block whose last key is not before k.
func (r *rankList) block(k rankKey) int {
	return sort.Search(len(r.blocks), func(i int) bool {
		b := r.blocks[i].keys
		return r.cmp(b[len(b)-1], k) >= 0
	})
}

// own returns block i ready to change: copied first when a clone shares it.
// The copy has room for rankSlack more keys, not up to the split's 2×rankBlock:
// after every fresh copy of the hub's ledger both it and the copy copy each
// block at its first change (~400 blocks an order at 100k workspaces), and
// copies of 513 keys were 12 % of the bytes the dashboard allocated (the
// scale harness at 100k, 1,000 events/s); a block that fills its slack
// grows as any slice does.
func (r *rankList) own(i int, owner uint64) *keyBlock {
	b := r.blocks[i]
	if b.owner != owner {
		keys := make([]rankKey, len(b.keys), len(b.keys)+rankSlack)
		copy(keys, b.keys)
		b = &keyBlock{owner: owner, keys: keys, version: b.version}
		r.blocks[i] = b
	}
	return b
}

func (r *rankList) insert(k rankKey, owner uint64) {
	r.n++
	if len(r.blocks) == 0 {
		keys := make([]rankKey, 1, 2*rankBlock+1)
		keys[0] = k
		r.blocks = append(r.blocks, &keyBlock{owner: owner, keys: keys})
		r.blocks[0].changed()
		return
	}
	bi := min(r.block(k), len(r.blocks)-1)
	b := r.own(bi, owner)
	i, _ := slices.BinarySearchFunc(b.keys, k, r.cmp)
	b.keys = slices.Insert(b.keys, i, k)
	b.changed()
	if len(b.keys) > 2*rankBlock { // split in two halves
		tail := make([]rankKey, len(b.keys)-rankBlock, 2*rankBlock+1)
		copy(tail, b.keys[rankBlock:])
		b.keys = b.keys[:rankBlock]
		nb := &keyBlock{owner: owner, keys: tail}
		nb.changed()
		r.blocks = slices.Insert(r.blocks, bi+1, nb)
	}
}

// remove takes k out; false when it is not there.
func (r *rankList) remove(k rankKey, owner uint64) bool {
	bi := r.block(k)
	if bi == len(r.blocks) {
		return false
	}
	i, found := slices.BinarySearchFunc(r.blocks[bi].keys, k, r.cmp)
	if !found || r.blocks[bi].keys[i] != k {
		return false
	}
	b := r.own(bi, owner)
	b.keys = slices.Delete(b.keys, i, i+1)
	b.changed()
	if len(b.keys) == 0 {
		r.blocks = slices.Delete(r.blocks, bi, bi+1)
	}
	r.n--
	return true
}

// index returns k's position, -1 when it is not there.
func (r *rankList) index(k rankKey) int {
	bi := r.block(k)
	if bi == len(r.blocks) {
		return -1
	}
	i, found := slices.BinarySearchFunc(r.blocks[bi].keys, k, r.cmp)
	if !found {
		return -1
	}
	for _, b := range r.blocks[:bi] {
		i += len(b.keys)
	}
	return i
}

func (r *rankList) names(from, to int, dst []string) []string {
	to = min(to, r.n)
	at := 0
	for _, b := range r.blocks {
		if from >= to {
			break
		}
		if from < at+len(b.keys) {
			for _, k := range b.keys[from-at : min(to-at, len(b.keys))] {
				dst = append(dst, k.name)
			}
			from = min(to, at+len(b.keys))
		}
		at += len(b.keys)
	}
	return dst
}
