package feedtest

import (
	"bytes"
	"strings"
	"sync"
)

// LogBuffer is a log's output (an slog handler's writer) that a test reads
// while the producers' goroutines write it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines are the lines written so far that hold want.
func (l *LogBuffer) Lines(want string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, want) {
			out = append(out, line)
		}
	}
	return out
}
