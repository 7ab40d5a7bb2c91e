package feedtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TLSServer is a Redis that speaks only TLS, stopped by t.Cleanup.
type TLSServer struct {
	// Addr is host:port. URL is rediss://Addr/0?skip_verify=true (the
	// certificate is self-signed), PlainURL redis://Addr/0: the mistake.
	Addr, URL, PlainURL string
	// Real is true for redis-server --tls-port, false for a Go TLS listener
	// that answers PING with +PONG (redis-server built without TLS).
	Real bool
}

// StartTLS starts a TLS-only Redis for t: redis-server with --port 0
// --tls-port and a certificate made here (crypto/x509), else, where
// redis-server is missing or built without TLS, a Go TLS listener that drops
// a plain-text client as redis-server does and answers a TLS one's PING.
func StartTLS(t testing.TB) *TLSServer {
	t.Helper()
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	port, err := freePort()
	if err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &TLSServer{Addr: addr, URL: "rediss://" + addr + "/0?skip_verify=true", PlainURL: "redis://" + addr + "/0"}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		cmd := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert, "--tls-auth-clients", "no",
			"--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning")
		logf, err := os.Create(filepath.Join(dir, "redis.log"))
		if err != nil {
			t.Fatalf("feedtest: %v", err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("feedtest: start redis-server: %v", err)
		}
		logf.Close()
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-exited: // no TLS in this build ("Bad directive or wrong number of arguments")
				log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
				t.Logf("feedtest: redis-server has no TLS (%s); a Go TLS listener stands in", strings.TrimSpace(string(log)))
				return s.goListener(t, cert, key)
			default:
			}
			if tlsPing(addr) {
				s.Real = true
				return s
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("feedtest: redis-server --tls-port %d did not answer", port)
	}
	requireReal(t)
	return s.goListener(t, cert, key)
}

// goListener serves s.Addr with TLS: a plain-text client fails the handshake
// and is dropped, as redis-server drops it; each line of a TLS client gets
// +PONG (enough for go-redis's HELLO, refused with -ERR, and PING).
func (s *TLSServer) goListener(t testing.TB, cert, key string) *TLSServer {
	t.Helper()
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	l, err := tls.Listen("tcp", s.Addr, &tls.Config{Certificates: []tls.Certificate{kp}})
	if err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					cmd, err := readCommand(r)
					if err != nil {
						return
					}
					reply := "+PONG\r\n"
					if cmd == "HELLO" {
						reply = "-ERR unknown command 'HELLO'\r\n" // RESP2, as a Redis 5
					}
					if _, err := conn.Write([]byte(reply)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

// readCommand reads one RESP command (an array of bulk strings, or an inline
// line) and returns its name in upper case.
func readCommand(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "*") {
		name, _, _ := strings.Cut(line, " ")
		return strings.ToUpper(name), nil
	}
	n, _ := strconv.Atoi(line[1:])
	var name string
	for i := 0; i < 2*n; i++ { // $len, then the argument
		arg, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if i == 1 {
			name = strings.ToUpper(strings.TrimSpace(arg))
		}
	}
	return name, nil
}

// tlsPing reports whether addr answers PING over TLS.
func tlsPing(addr string) bool {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a test's self-signed server
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t testing.TB, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	kder, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatalf("feedtest: %v", err)
	}
	return cert, key
}
