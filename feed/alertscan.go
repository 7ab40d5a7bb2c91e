package feed

import (
	"context"
	"fmt"
)

// alertScanPage is HSCAN's COUNT in AlertStore.Scan: at ~430 bytes a record,
// a reply of about 400 kB.
const alertScanPage = 1_000

// Scan is Load one page at a time: it walks a period's lifecycle with HSCAN
// and calls fn with each record that decodes and its value as stored (raw),
// once per alert id, without holding the hash: `mavtop alerts` at 100k
// workspaces read the 43 MB hash in one HGETALL into a map, decoded all of
// it into another and copied it twice more (420 MB of RSS for --json). fn
// may keep rec's strings and raw; rec itself is reused. A field that does not
// decode is counted in bad, as Load counts it. A field HSCAN returns twice
// (the hash rehashed meanwhile) is given once. The error is Redis's.
func (s *AlertStore) Scan(ctx context.Context, period string, fn func(rec *StoredAlert, raw string)) (bad int, err error) {
	key := s.keys.Alerts(period)
	seen := map[string]struct{}{}
	var cursor uint64
	for {
		kv, next, err := s.c.HScan(ctx, key, cursor, "", alertScanPage).Result()
		if err != nil {
			return bad, fmt.Errorf("read alerts of %s: %w", period, namedKeyError(ctx, s.c, key, err))
		}
		for i := 0; i+1 < len(kv); i += 2 {
			id, v := kv[i], kv[i+1]
			if !isAlertField(id) {
				continue
			}
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			rec, ok := decodeAlert(id, v)
			if !ok {
				bad++
				continue
			}
			fn(&rec, v)
		}
		if cursor = next; cursor == 0 {
			return bad, nil
		}
	}
}

// DecodeAlert decodes a record as Scan gave it raw (its id, the field).
func DecodeAlert(id, raw string) (StoredAlert, bool) { return decodeAlert(id, raw) }
