package model

import "iter"

// records is the lifecycle a judgement reads, by id: held by value (a
// caller's map[string]AlertRecord: AlertTransitions, AlertRecords.Known) or
// shared by pointer (AlertRecords.Shared: notify.Watcher's, each pointing
// at the record its store mirror decoded, never written). Lookups copy the
// record out, as a map of values does.
type records struct {
	val map[string]AlertRecord
	ptr map[string]*AlertRecord
	fn  RecordLookup // AlertRecords.Lookup: given on demand
}

// get returns the record of id.
func (r records) get(id string) (AlertRecord, bool) {
	if r.fn != nil {
		return r.fn.Get(id)
	}
	if r.ptr != nil {
		if p := r.ptr[id]; p != nil {
			return *p, true
		}
		return AlertRecord{}, false
	}
	rec, ok := r.val[id]
	return rec, ok
}

// has reports whether id has a record.
func (r records) has(id string) bool {
	if r.fn != nil {
		return r.fn.Has(id)
	}
	if r.ptr != nil {
		return r.ptr[id] != nil
	}
	_, ok := r.val[id]
	return ok
}

// len returns the number of records (a nil pointer counts as none).
func (r records) len() int {
	if r.fn != nil {
		return r.fn.Len()
	}
	if r.ptr != nil {
		n := 0
		for _, p := range r.ptr {
			if p != nil {
				n++
			}
		}
		return n
	}
	return len(r.val)
}

// ids returns every id with a record, in no order.
func (r records) ids() iter.Seq[string] {
	if r.fn != nil {
		return r.fn.IDs()
	}
	return func(yield func(string) bool) {
		if r.ptr != nil {
			for id, p := range r.ptr {
				if p != nil && !yield(id) {
					return
				}
			}
			return
		}
		for id := range r.val {
			if !yield(id) {
				return
			}
		}
	}
}
