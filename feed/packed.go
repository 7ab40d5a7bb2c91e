package feed

import (
	"encoding/binary"
	"math"
	"reflect"
	"time"

	"mavtop/model"
)

// PackedAlert is a StoredAlert kept compactly: its fields in a few hundred
// bytes of one string, zero fields left out, a delivery's alert that is the
// record's (a firing's, nearly always) said once, decoded again on demand
// (Decode, Record). A decoded StoredAlert holds two model.Alerts of 360
// bytes each, mostly zero, and a Delivery of 512: ~1.1 KB of live heap a
// record, of ~170k records at 100k workspaces (the period's threshold
// crossings and run-out forecasts), against ~0.3 KB packed (rss16, issue
// 16). A record Pack cannot give back exactly as it was (a time in a zone
// other than UTC, a field that is a pointer) is kept decoded instead: what
// Decode returns is always the record packed, field for field.
//
// The zero PackedAlert is no record. A PackedAlert is never written once
// made: it may be copied and shared.
type PackedAlert struct {
	s    string
	full *StoredAlert // the record itself when it could not be packed
}

// Pack returns r packed (r is not kept, unless it could not be packed, and
// never written).
func Pack(r *StoredAlert) PackedAlert {
	if r == nil {
		return PackedAlert{}
	}
	e := packer{ref: &r.Alert}
	if e.value(reflect.ValueOf(r).Elem()) {
		p := PackedAlert{s: string(e.b)}
		if p.decodes(r) {
			return p
		}
	}
	return PackedAlert{full: r}
}

// decodes reports whether p decodes to r, field for field.
func (p PackedAlert) decodes(r *StoredAlert) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return reflect.DeepEqual(p.Decode(), r)
}

// IsZero reports whether p is no record.
func (p PackedAlert) IsZero() bool { return p.s == "" && p.full == nil }

// Bytes is the live heap p holds of its own (the packed string, or 0 for a
// record kept decoded), for tests and benchmarks.
func (p PackedAlert) Bytes() int { return len(p.s) }

// Decode returns the record p holds (nil for none): a new one at each call,
// its strings sharing p's bytes, or the one Pack kept. Never write it.
func (p PackedAlert) Decode() *StoredAlert {
	switch {
	case p.full != nil:
		return p.full
	case p.s == "":
		return nil
	}
	r := new(StoredAlert)
	d := unpacker{s: p.s}
	d.value(reflect.ValueOf(r).Elem(), &r.Alert)
	return r
}

// Record returns the lifecycle part of the record p holds (ok false for
// none), without decoding its deliveries: what the alert judge reads.
func (p PackedAlert) Record() (rec model.AlertRecord, ok bool) {
	switch {
	case p.full != nil:
		return p.full.AlertRecord, true
	case p.s == "":
		return rec, false
	}
	// StoredAlert's first field is the embedded AlertRecord: its tag, then
	// the record's own fields
	d := unpacker{s: p.s}
	if tag := d.uvarint(); tag == 1 {
		d.value(reflect.ValueOf(&rec).Elem(), &rec.Alert)
	}
	return rec, true
}

var (
	timeType  = reflect.TypeFor[time.Time]()
	alertType = reflect.TypeFor[model.Alert]()
)

// packer writes a value's non-zero fields: a struct as (field index + 1,
// value)… then 0; a string or a slice or a map as its length, then its
// bytes or elements; integers as varints, floats as their 8 bytes, a time
// as its Unix seconds and nanoseconds (UTC only). A model.Alert other than
// the record's own (ref) starts with a byte: 1 when it is the record's
// (nothing follows), 0 before its fields.
type packer struct {
	b   []byte
	ref *model.Alert
}

// value writes v; false when v cannot be packed (a pointer, an interface,
// a time not in UTC or with a monotonic reading, an unexported field set).
func (e *packer) value(v reflect.Value) bool {
	t := v.Type()
	switch t.Kind() {
	case reflect.String:
		e.str(v.String())
	case reflect.Bool:
		if v.Bool() {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b = binary.AppendVarint(e.b, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.b = binary.AppendUvarint(e.b, v.Uint())
	case reflect.Float64, reflect.Float32:
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v.Float()))
	case reflect.Slice:
		e.b = binary.AppendUvarint(e.b, uint64(v.Len()))
		for i := range v.Len() {
			if !e.value(v.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		e.b = binary.AppendUvarint(e.b, uint64(v.Len()))
		for it := v.MapRange(); it.Next(); {
			if !e.value(it.Key()) || !e.value(it.Value()) {
				return false
			}
		}
	case reflect.Struct:
		if t == timeType {
			tm := v.Interface().(time.Time)
			if tm.Location() != time.UTC || tm != tm.Round(-1) {
				return false
			}
			e.b = binary.AppendVarint(e.b, tm.Unix())
			e.b = binary.AppendUvarint(e.b, uint64(tm.Nanosecond()))
			return true
		}
		if t == alertType && v.CanAddr() && v.Addr().Interface() != e.ref {
			if reflect.DeepEqual(v.Interface(), *e.ref) {
				e.b = append(e.b, 1)
				return true
			}
			e.b = append(e.b, 0)
		}
		for i := range t.NumField() {
			f := v.Field(i)
			if f.IsZero() {
				continue
			}
			if !t.Field(i).IsExported() {
				return false
			}
			e.b = binary.AppendUvarint(e.b, uint64(i+1))
			if !e.value(f) {
				return false
			}
		}
		e.b = append(e.b, 0)
	default:
		return false
	}
	return true
}

func (e *packer) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

// unpacker reads what packer wrote; its strings are substrings of s.
type unpacker struct {
	s string
	i int
}

func (d *unpacker) uvarint() uint64 {
	var x uint64
	var sh uint
	for {
		c := d.s[d.i]
		d.i++
		if c < 0x80 {
			return x | uint64(c)<<sh
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
}

func (d *unpacker) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *unpacker) str() string {
	n := int(d.uvarint())
	s := d.s[d.i : d.i+n]
	d.i += n
	return s
}

// value reads into v (zero) what packer wrote of it; ref is the record's
// alert, decoded before any delivery's.
func (d *unpacker) value(v reflect.Value, ref *model.Alert) {
	t := v.Type()
	switch t.Kind() {
	case reflect.String:
		v.SetString(d.str())
	case reflect.Bool:
		v.SetBool(d.s[d.i] == 1)
		d.i++
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(d.varint())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(d.uvarint())
	case reflect.Float64, reflect.Float32:
		var u uint64
		for k := range 8 {
			u |= uint64(d.s[d.i+k]) << (8 * k)
		}
		v.SetFloat(math.Float64frombits(u))
		d.i += 8
	case reflect.Slice:
		n := int(d.uvarint())
		v.Set(reflect.MakeSlice(t, n, n))
		for i := range n {
			d.value(v.Index(i), ref)
		}
	case reflect.Map:
		n := int(d.uvarint())
		m := reflect.MakeMapWithSize(t, n)
		k, x := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		for range n {
			k.SetZero()
			x.SetZero()
			d.value(k, ref)
			d.value(x, ref)
			m.SetMapIndex(k, x)
		}
		v.Set(m)
	case reflect.Struct:
		if t == timeType {
			sec := d.varint()
			nsec := d.uvarint()
			v.Set(reflect.ValueOf(time.Unix(sec, int64(nsec)).UTC()))
			return
		}
		if t == alertType && v.Addr().Interface() != ref {
			same := d.s[d.i] == 1
			d.i++
			if same {
				v.Set(reflect.ValueOf(*ref))
				return
			}
		}
		for {
			tag := d.uvarint()
			if tag == 0 {
				return
			}
			d.value(v.Field(int(tag-1)), ref)
		}
	}
}
