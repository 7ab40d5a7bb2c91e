package proxy

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"mavtop/model"
)

// Grant is what a proxy token stands for: the real API key sent upstream in its
// place and the workspace and project its calls are attributed to.
type Grant struct {
	// APIKey is the Mavera key sent upstream; it never leaves the proxy otherwise.
	APIKey string
	// Workspace and Project attribute the token's calls when the request names none.
	Workspace, Project string
}

// Keys maps proxy tokens to grants. It is safe for concurrent use; Load swaps the
// whole table at once, so a request sees the old or the new file, never a mix.
type Keys struct {
	table atomic.Pointer[map[[32]byte]Grant]
}

// LoadKeys reads a keys file (see ParseKeys).
func LoadKeys(path string) (*Keys, error) {
	k := &Keys{}
	if err := k.Load(path); err != nil {
		return nil, err
	}
	return k, nil
}

// Load re-reads path and replaces the table; on error the old table stays.
func (k *Keys) Load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("proxy keys: %w", err)
	}
	defer f.Close()
	nk, err := ParseKeys(f)
	if err != nil {
		return fmt.Errorf("proxy keys %s: %w", path, err)
	}
	k.table.Store(nk.table.Load())
	return nil
}

// Len returns how many tokens the table holds.
func (k *Keys) Len() int {
	t := k.table.Load()
	if t == nil {
		return 0
	}
	return len(*t)
}

// Lookup returns the grant of token; ok is false for an unknown token. Tokens are
// compared by their SHA-256, so the table holds no token in the clear.
func (k *Keys) Lookup(token string) (Grant, bool) {
	t := k.table.Load()
	if t == nil || token == "" {
		return Grant{}, false
	}
	g, ok := (*t)[sha256.Sum256([]byte(token))]
	return g, ok
}

// ParseKeys reads one grant per line, `TOKEN API_KEY WORKSPACE [PROJECT]`, fields
// separated by spaces or tabs; blank lines and lines starting with # are skipped.
// Errors name the line, never a token or a key.
func ParseKeys(r io.Reader) (*Keys, error) {
	t := map[[32]byte]Grant{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 || len(f) > 4 {
			return nil, fmt.Errorf("line %d: want TOKEN API_KEY WORKSPACE [PROJECT], got %d fields", n, len(f))
		}
		g := Grant{APIKey: f[1], Workspace: f[2]}
		if len(f) == 4 {
			g.Project = f[3]
		}
		switch {
		case len(f[0]) < 16:
			return nil, fmt.Errorf("line %d: token shorter than 16 characters (easy to guess)", n)
		case !model.IsID(g.Workspace):
			return nil, fmt.Errorf("line %d: workspace is not 1–64 of [A-Za-z0-9._:-]", n)
		case g.Project != "" && !model.IsID(g.Project):
			return nil, fmt.Errorf("line %d: project is not 1–64 of [A-Za-z0-9._:-]", n)
		}
		h := sha256.Sum256([]byte(f[0]))
		if _, dup := t[h]; dup {
			return nil, fmt.Errorf("line %d: token listed twice", n)
		}
		t[h] = g
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	k := &Keys{}
	k.table.Store(&t)
	return k, nil
}
