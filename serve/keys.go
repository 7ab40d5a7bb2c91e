package serve

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	gossh "golang.org/x/crypto/ssh"
)

// KeySet is the public keys of one OpenSSH authorized_keys file.
type KeySet struct {
	// Path is the file the keys were read from.
	Path string
	keys map[string]string // key.Marshal() → comment
}

// Contains reports whether key is in the set.
func (k *KeySet) Contains(key gossh.PublicKey) bool {
	if k == nil || key == nil {
		return false
	}
	_, ok := k.keys[string(key.Marshal())]
	return ok
}

// Len returns the number of keys.
func (k *KeySet) Len() int {
	if k == nil {
		return 0
	}
	return len(k.keys)
}

// LoadKeys reads an OpenSSH authorized_keys file. Blank lines and comments are
// skipped. A line that is not a public key, and a key with options (from=,
// command=, restrict, cert-authority…, which this server cannot honour), is
// skipped and described in warnings, so a restricted key never gets more than
// its owner meant. A file that cannot be read, or holds no usable key, is an
// error: the server never falls back to letting everyone in.
func LoadKeys(path string) (set *KeySet, warnings []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read authorized keys: %w", err)
	}
	set = &KeySet{Path: path, keys: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, comment, options, _, err := gossh.ParseAuthorizedKey(line)
		switch {
		case err != nil:
			warnings = append(warnings, fmt.Sprintf("%s:%d: skipped: not an OpenSSH public key (%v)", path, n, err))
		case len(options) > 0:
			warnings = append(warnings, fmt.Sprintf("%s:%d: skipped key %s: options (%s) are not supported by mavtop serve; list the key without options in a file of its own",
				path, n, gossh.FingerprintSHA256(key), bytes.Join(toBytes(options), []byte(","))))
		default:
			set.keys[string(key.Marshal())] = comment
		}
	}
	if err := sc.Err(); err != nil {
		return nil, warnings, fmt.Errorf("read %s: %w", path, err)
	}
	if len(set.keys) == 0 {
		return nil, warnings, fmt.Errorf("%s holds no usable public key", path)
	}
	return set, warnings, nil
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// Auth decides who may connect (the authorized keys) and who may launch jobs
// (the launch keys). Reload re-reads both files; it is safe for concurrent use.
type Auth struct {
	authorizedPath, launchPath string

	mu         sync.RWMutex
	authorized *KeySet
	launch     *KeySet
}

// LoadAuth reads the authorized keys (required) and the launch keys (optional:
// "" means nobody may launch).
func LoadAuth(authorizedPath, launchPath string) (*Auth, []string, error) {
	a := &Auth{authorizedPath: authorizedPath, launchPath: launchPath}
	warnings, err := a.Reload()
	if err != nil {
		return nil, warnings, err
	}
	return a, warnings, nil
}

// Reload re-reads the key files. On an error the keys in force stay as they were.
func (a *Auth) Reload() (warnings []string, err error) {
	if a.authorizedPath == "" {
		return nil, errors.New("no authorized keys file given: mavtop serve only lets in listed public keys")
	}
	authorized, w, err := LoadKeys(a.authorizedPath)
	warnings = append(warnings, w...)
	if err != nil {
		return warnings, fmt.Errorf("--authorized-keys: %w", err)
	}
	var launch *KeySet
	if a.launchPath != "" {
		launch, w, err = LoadKeys(a.launchPath)
		warnings = append(warnings, w...)
		if err != nil {
			return warnings, fmt.Errorf("--launch-keys: %w", err)
		}
	}
	a.mu.Lock()
	a.authorized, a.launch = authorized, launch
	a.mu.Unlock()
	return warnings, nil
}

// Authorized reports whether key may connect.
func (a *Auth) Authorized(key gossh.PublicKey) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.authorized.Contains(key)
}

// MayLaunch reports whether key may launch jobs: it must be in the launch keys
// (and, to connect at all, in the authorized keys).
func (a *Auth) MayLaunch(key gossh.PublicKey) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.authorized.Contains(key) && a.launch.Contains(key)
}

// Counts returns how many authorized and launch keys are in force.
func (a *Auth) Counts() (authorized, launch int) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.authorized.Len(), a.launch.Len()
}

// LoadOrCreateHostKey returns the server's host key from path, generating an
// Ed25519 key there on first use (its directory created 0700, the file 0600), so
// clients see the same host key on every start. An existing key readable by
// group or others is refused, as sshd refuses one.
func LoadOrCreateHostKey(path string) (signer gossh.Signer, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createHostKey(path); err != nil {
			return nil, false, err
		}
		created = true
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("read host key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, false, fmt.Errorf("host key %s is readable by others (mode %04o): chmod 600 %s", path, perm, path)
	}
	signer, err = gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, created, nil
}

// createHostKey writes a new Ed25519 key to path without ever replacing one:
// it is written to a temporary file and linked into place, so two servers
// starting at once both end up with the one that won.
func createHostKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create host key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "mavtop ssh host key")
	if err != nil {
		return fmt.Errorf("encode host key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".ssh_host_key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write host key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return fmt.Errorf("write host key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write host key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write host key: %w", err)
	}
	return nil
}
