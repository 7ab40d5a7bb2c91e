package feed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGapCheckOnARedis6Reply feeds the gap check XINFO STREAM replies as Redis
// 6 gives them — no entries-added, max-deleted-entry-id nor
// recorded-first-entry-id (go-redis reads them as 0 and "") — beside the same
// states as Redis 7 tells them, and asserts what each still detects (the
// README's table): a trim past what was read (the oldest entry newer than the
// resume point) and a trim of entries read (the oldest entry moved on, or the
// stream emptied) are seen on both; an XDEL from the middle (the oldest entry
// stays) and another stream under the key (a flush, then writes that reach
// past the resume point) are seen only on 7 — on 6 the flush is a gap, named a
// reset only by counters that fell (begin's lostAll).
func TestGapCheckOnARedis6Reply(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	id := func(agoSec, seq int) string {
		return fmt.Sprintf("%d-%d", now.Add(-time.Duration(agoSec)*time.Second).UnixMilli(), seq)
	}
	// 100 entries a second apart, the newest 10 s ago; mavtop read them all.
	from := id(10, 0)
	type state struct {
		first, last string
		length      int64
		added       int64  // entries-added (Redis 7)
		maxDeleted  string // max-deleted-entry-id (Redis 7)
	}
	before := state{first: id(109, 0), last: from, length: 100, added: 100, maxDeleted: "0-0"}
	for _, tc := range []struct {
		name   string
		after  state
		v7, v6 Reason
	}{
		{"nothing removed", before, "", ""},
		{"trimmed past what was read", state{first: id(5, 0), last: id(5, 0), length: 1, added: 101, maxDeleted: "0-0"}, ReasonGap, ReasonGap},
		{"the oldest entries read trimmed, the rest short of the burn window", state{first: id(59, 0), last: from, length: 50, added: 100, maxDeleted: "0-0"}, ReasonTrim, ReasonTrim},
		{"emptied (XTRIM MAXLEN 0)", state{last: from, length: 0, added: 100, maxDeleted: "0-0"}, ReasonTrim, ReasonTrim},
		{"XDEL from the middle", state{first: id(109, 0), last: from, length: 99, added: 100, maxDeleted: id(50, 0)}, ReasonTrim, ""},
		{"flushed, then written past the resume point", state{first: id(5, 0), last: id(5, 0), length: 1, added: 1, maxDeleted: "0-0"}, ReasonReset, ReasonGap},
	} {
		for _, v := range []struct {
			name string
			six  bool
			want Reason
		}{{"redis 7", false, tc.v7}, {"redis 6", true, tc.v6}} {
			t.Run(tc.name+"/"+v.name, func(t *testing.T) {
				s := NewSubscriber(nil, SubscriberOptions{Now: func() time.Time { return now }, AuditEvery: time.Second})
				var added int64
				reply := func(st state) *redis.XInfoStreamCmd {
					in := redis.XInfoStream{Length: st.length, LastGeneratedID: st.last, FirstEntry: redis.XMessage{ID: st.first}}
					if !v.six {
						in.EntriesAdded, in.MaxDeletedEntryID, in.RecordedFirstEntryID = st.added, st.maxDeleted, st.first
					}
					cmd := redis.NewXInfoStreamCmd(context.Background(), Keys{}.Stream())
					cmd.SetVal(&in)
					return cmd
				}
				// the check after the last read: the state mavtop knows
				if got, err := s.checkGap(context.Background(), from, reply(before), nil, nil, &added); err != nil || got != "" {
					t.Fatalf("first check: %q %v, want no re-read", got, err)
				}
				got, err := s.checkGap(context.Background(), from, reply(tc.after), nil, nil, &added)
				if err != nil {
					t.Fatal(err)
				}
				if got != v.want {
					t.Errorf("re-read %q, want %q", got, v.want)
				}
			})
		}
	}
}
