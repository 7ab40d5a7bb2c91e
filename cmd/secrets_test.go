package cmd

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// TestRedisPasswordInNoOutput (issue 10): a Redis URL that fails to parse, or
// to connect, is named without its password by every command, serve included;
// the parser's own message (which quotes the URL) never reaches the output.
func TestRedisPasswordInNoOutput(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	const secret = "S3cret"
	urls := []string{
		"redis://:" + secret + "%zz@127.0.0.1:6379/0",      // bad escape
		"redis://user:" + secret + "@127.0.0.1:notaport/0", // invalid port
		"redis://:" + secret + "@[::1:6379/0",              // missing ]
		"redis://:" + secret + ":x@127.0.0.1:6379/0",       // a : in the password
		"redis://:" + secret + "@127.0.0.1:6379/zero",      // bad db
		"redis://:" + secret + "\x1b@127.0.0.1:6379/0",     // control character
		"user:" + secret + "@127.0.0.1:6379",               // credentials without a scheme
		"redis://:" + secret + "@127.0.0.1:6379,,",         // empty entry in a list
		"redis://:" + secret + "pw@127.0.0.1:1/0",          // nothing listens: the dial fails
	}
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, u := range urls {
		cmds := [][]string{
			{"check", "--redis", u},
			{"emit", "--redis", u, "--ws", "acme", "--endpoint", "/responses", "--credits", "1"},
			{"budget", "show", "--redis", u},
			{"config", "--redis", u},
		}
		if !strings.Contains(u, ":x@") && i < len(urls)-1 { // serve waits for a Redis it can parse; one it cannot parse ends it
			cmds = append(cmds, []string{"serve", "--redis", u, "--ssh", "127.0.0.1:0", "--authorized-keys", keys, "--host-key", filepath.Join(dir, "hk")})
		}
		for _, args := range cmds {
			out, errOut, code := runMavtop(t, args...)
			if code == 0 && args[0] != "config" {
				t.Errorf("%s with %q: exit 0", args[0], u)
			}
			if strings.Contains(out+errOut, secret) {
				t.Errorf("%s with %q shows the password:\n%s%s", args[0], u, out, errOut)
			}
			if args[0] != "config" && !strings.Contains(errOut, "xxxxx") && !strings.Contains(errOut, "credentials") {
				t.Errorf("%s with %q: the error does not name the URL (redacted):\n%s", args[0], u, errOut)
			}
		}
	}
}
