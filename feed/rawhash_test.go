package feed

import (
	"errors"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestRawHashReadsHGETALLsReply: the flat read's replies as Redis sends
// them: fields and values in order, whatever bytes they hold (CRLF, empty),
// a nil or empty array as no field, an error reply as a redis.Error with the
// server's words, anything else as errRawReply.
func TestRawHashReadsHGETALLsReply(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  []string
		err   string
	}{
		{"*4\r\n$2\r\nws\r\n$3\r\n120\r\n$4\r\na\r\nb\r\n$0\r\n\r\n", []string{"ws", "120", "a\r\nb", ""}, ""},
		{"*0\r\n", nil, ""},
		{"*-1\r\n", nil, ""},
		{"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", nil, "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", nil, errRawReply.Error()},
		{":5\r\n", nil, errRawReply.Error()},
		{"", nil, errRawReply.Error()},
	} {
		r := rawHash(tc.reply)
		var got []string
		for f, v := range r.all {
			got = append(got, f, v)
		}
		err := r.err()
		switch {
		case tc.err == "" && err != nil, tc.err != "" && (err == nil || !errors.Is(err, errRawReply) && err.Error() != tc.err):
			t.Errorf("%q: error %v, want %q", tc.reply, err, tc.err)
		case tc.err != "" && !errors.Is(err, errRawReply) && !errors.As(err, new(redis.Error)):
			t.Errorf("%q: %v is no redis.Error", tc.reply, err)
		case !reflect.DeepEqual(got, tc.want) || r.pairs() != len(tc.want)/2:
			t.Errorf("%q: read %q (%d pairs), want %q", tc.reply, got, r.pairs(), tc.want)
		}
	}
}
