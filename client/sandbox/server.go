package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server serves a Sandbox on a TCP address.
type Server struct {
	// Addr is the address listened on (host:port, the port resolved).
	Addr string
	// BaseURL is the API base URL to give the client ("http://127.0.0.1:8787/api/v1").
	BaseURL string

	srv  *http.Server
	done chan error
}

// Listen starts serving sb on addr ("127.0.0.1:8787"; port 0 picks a free one).
func Listen(addr string, sb *Sandbox) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	s := &Server{
		Addr:    ln.Addr().String(),
		BaseURL: "http://" + ln.Addr().String() + BasePath,
		srv:     &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second},
		done:    make(chan error, 1),
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Close stops the server at once.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// Shutdown stops the server gracefully, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	<-s.done
	return err
}

// IsLoopback reports whether addr's host is a loopback address (or localhost).
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
