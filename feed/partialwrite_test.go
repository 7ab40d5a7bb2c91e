package feed

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mavtop/feed/feedtest"
	"mavtop/model"
)

// TestAWriteRedisPartlyRefusedIsRecorded: for every key a write touches, a key
// of that name holding a string makes Redis refuse that one command inside the
// MULTI and run the others. The publisher reports the event as recorded
// (Recorded, Written 1: a retry would count it twice), names the key, what it
// holds and what the event lacks, and Redis holds the event in every other key.
// The acks key included: its refusal used to read as "not applied".
func TestAWriteRedisPartlyRefusedIsRecorded(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	now := futureMonth().Add(36 * time.Hour)
	p := model.MonthlyUTC.At(now)
	k := Keys{}
	ev402 := refused("acme", "research", "/mave/chat", model.CodeCreditsExhausted)
	ev402.Credits = 3
	recharge := model.Event{Workspace: "acme", Kind: model.KindRecharge, Credits: 500}
	for _, tc := range []struct {
		key, part string
		ev        model.Event
	}{
		{k.Used(p.Key), "the used counter", ev402},
		{k.UsedBy(p.Key), "the used-by-endpoint counter", ev402},
		{k.Refused(p.Key), "the refusals counter", ev402},
		{k.Digest(p.Key), "the audit digest", ev402},
		{k.Stream(), "the stream entry", ev402},
		{k.Acks("pub"), "the publisher's exactly-once acks", ev402},
		{k.Recharged(p.Key), "the recharged counter", recharge},
	} {
		t.Run(tc.part, func(t *testing.T) {
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			c.Set(ctx, tc.key, "not a hash", 0)
			pub := NewPublisher(c, PublisherOptions{Now: func() time.Time { return now }, ID: "pub", RetryFor: -1})
			got, err := pub.Record(ctx, tc.ev)
			var we *WriteError
			if !errors.As(err, &we) || !we.Recorded() || we.Written != 1 || len(we.Partial) == 0 {
				t.Fatalf("Record = %v; want recorded (Written 1) with refused commands", err)
			}
			for _, ce := range we.Partial { // the digest takes two fields of a 402: two refusals
				if ce.Key != tc.key || ce.Part != tc.part || ce.Holds != "string" ||
					!strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), "holds a string") {
					t.Errorf("refused command %+v, message %q; want %s (%s) holding a string", ce, err, tc.key, tc.part)
				}
			}
			if st := pub.Stats(); st.Written != 1 {
				t.Errorf("stats count %d written, want 1", st.Written)
			}
			// Every other key holds the event once.
			n, _ := c.XLen(ctx, k.Stream()).Result()
			wantEntries := int64(1)
			if tc.key == k.Stream() {
				wantEntries = 0
				if got.ID != "" {
					t.Errorf("the event has stream id %q, but Redis refused its XADD", got.ID)
				}
			} else if got.ID == "" {
				t.Error("the event lacks the stream id of the entry Redis wrote")
			}
			if n != wantEntries {
				t.Errorf("the stream holds %d entries, want %d", n, wantEntries)
			}
			want := map[string]int64{
				k.Used(p.Key) + " acme":                               3,
				k.UsedBy(p.Key) + " acme/research//mave/chat":         3,
				k.Refused(p.Key) + " acme/research/credits_exhausted": 1,
				k.Digest(p.Key) + " " + DigestUsedField("acme"):       3,
				k.Acks("pub") + " 1":                                  1,
			}
			if tc.ev.Kind == model.KindRecharge {
				want = map[string]int64{
					k.Used(p.Key) + " acme":                              0,
					k.Digest(p.Key) + " " + DigestRechargedField("acme"): 500,
					k.Acks("pub") + " 1":                                 1,
				}
			}
			for kf, v := range want {
				key, field, _ := strings.Cut(kf, " ")
				if key == tc.key {
					continue
				}
				if got, err := c.HGet(ctx, key, field).Int64(); err != nil || got != v {
					t.Errorf("HGET %s %s = %d (%v), want %d", key, field, got, err, v)
				}
			}
		})
	}
}

// TestAWriteRedisRefusedWholeWritesNothing: a refusal before the MULTI (the
// settings hash holding a string: the period rule cannot be read) or of the
// whole MULTI (EXECABORT: out of memory while queuing) is not recorded
// (Recorded false, Written 0), names the key when there is one, and Redis
// holds nothing of the event.
func TestAWriteRedisRefusedWholeWritesNothing(t *testing.T) {
	srv := feedtest.StartReal(t, "needs CONFIG SET maxmemory")
	c := srv.Client()
	ctx := context.Background()
	k := Keys{}
	c.Set(ctx, k.Settings(), "not a hash", 0)
	pub := NewPublisher(c, PublisherOptions{RetryFor: -1})
	err := pub.Track(ctx, usage("acme", "", "/responses", 5))
	var we *WriteError
	if !errors.As(err, &we) || we.Recorded() || we.Written != 0 || !strings.Contains(err.Error(), k.Settings()) {
		t.Errorf("Track with a string settings key = %v; want not recorded, naming %s", err, k.Settings())
	}
	if n, _ := c.DBSize(ctx).Result(); n != 1 {
		t.Errorf("Redis holds %d keys, want only the settings key", n)
	}

	c.Del(ctx, k.Settings())
	if err := c.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ConfigSet(context.Background(), "maxmemory", "0") })
	err = pub.Track(ctx, usage("acme", "", "/responses", 5))
	if !errors.As(err, &we) || we.Recorded() || we.Written != 0 || we.Unknown != 0 || !strings.Contains(err.Error(), "EXECABORT") {
		t.Errorf("Track out of memory = %v; want not recorded (EXECABORT)", err)
	}
	c.ConfigSet(ctx, "maxmemory", "0")
	if n, _ := c.DBSize(ctx).Result(); n != 0 {
		keys, _ := c.Keys(ctx, "*").Result()
		t.Errorf("a refused MULTI left keys %v", keys)
	}
	if st := pub.Stats(); st.Written != 0 {
		t.Errorf("stats count %d written, want 0", st.Written)
	}
}

// TestABatchPartlyRefusedWritesEveryChunk: a batch of several chunks whose
// digest key holds a string is written whole (every chunk: the refusal is not
// a reason to stop), and the error lists the refusal of each chunk.
func TestABatchPartlyRefusedWritesEveryChunk(t *testing.T) {
	srv := feedtest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	now := futureMonth().Add(36 * time.Hour)
	p := model.MonthlyUTC.At(now)
	c.Set(ctx, Keys{}.Digest(p.Key), "x", 0)
	pub := NewPublisher(c, PublisherOptions{Now: func() time.Time { return now }, ChunkSize: 4, RetryFor: -1})
	var evs []model.Event
	for range 10 {
		evs = append(evs, usage("acme", "", "/responses", 2))
	}
	err := pub.TrackBatch(ctx, evs)
	var we *WriteError
	if !errors.As(err, &we) || !we.Recorded() || we.Written != 10 || len(we.Partial) != 3 {
		t.Fatalf("TrackBatch = %v; want 10 recorded, 3 chunks' digest refused", err)
	}
	if got := redisCounters(t, c, now).Used["acme"]; got != 20 {
		t.Errorf("used acme = %d, want 20", got)
	}
	if n, _ := c.XLen(ctx, Keys{}.Stream()).Result(); n != 10 {
		t.Errorf("the stream holds %d entries, want 10", n)
	}
}
