package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestSandboxCommandServes(t *testing.T) {
	cmd := newSandboxCmd()
	var out syncBuffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--seed", "3", "--allocation", "1234"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/api/v1`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); {
		base = re.FindString(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	if base == "" {
		cancel()
		t.Fatalf("no base URL printed: %q", out.String())
	}
	if !bytes.Contains([]byte(out.String()), []byte("curl -s "+base+"/usage")) {
		t.Fatalf("no example curl: %q", out.String())
	}
	req, _ := http.NewRequest("GET", base+"/usage", nil)
	req.Header.Set("Authorization", "Bearer "+sandboxExampleKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		Credits struct{ Included int64 } `json:"credits"`
	}
	json.NewDecoder(resp.Body).Decode(&u)
	resp.Body.Close()
	if resp.StatusCode != 200 || u.Credits.Included != 1234 {
		t.Fatalf("GET /usage: %d %+v", resp.StatusCode, u)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("command ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("command did not stop on cancel")
	}
}

func TestSandboxCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--allocation", "0"}, {"--plan", "gold"}, {"--job-speed", "0"}} {
		cmd := newSandboxCmd()
		cmd.SetArgs(append([]string{"--listen", "127.0.0.1:0"}, args...))
		cmd.SetOut(&bytes.Buffer{})
		err := cmd.Execute()
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: want exit 2, got %v", args, err)
		}
	}
}
