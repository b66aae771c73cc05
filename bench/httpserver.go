package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identity headers the forward-auth endpoints answer with, as jwtgate does
// by default.
const (
	HeaderSubject = "X-Auth-Subject"
	HeaderIssuer  = "X-Auth-Issuer"
	HeaderScope   = "X-Auth-Scope"
)

// NewGolangJWTHandler returns the forward-auth endpoint a Go team would write
// today with net/http, golang-jwt v5 and keyfunc v3, trusting both key sets
// of f, each for its issuer (as jwtgate's comparison server does), with the
// same policy as every compared verifier: the bearer token from
// Authorization, then 200 with the identity headers, or 401 with an RFC 6750
// WWW-Authenticate challenge.
func NewGolangJWTHandler(f *Fixture) (http.Handler, error) {
	p, kf, err := NewGolangJWTIssuersParser(f)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		tok, err := p.Parse(raw, kf)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		claims, _ := tok.Claims.(jwt.MapClaims)
		sub, _ := claims.GetSubject()
		iss, _ := claims.GetIssuer()
		scope, _ := claims["scope"].(string)
		h := w.Header()
		h.Set(HeaderSubject, sub)
		h.Set(HeaderIssuer, iss)
		h.Set(HeaderScope, scope)
		w.WriteHeader(http.StatusOK)
	}), nil
}

// HTTPServer is a net/http server on a loopback port.
type HTTPServer struct {
	// URL is "http://127.0.0.1:PORT".
	URL string

	srv  *http.Server
	done chan error
}

// StartHTTP serves h on 127.0.0.1 at a free port, with the timeouts a
// production server sets.
func StartHTTP(h http.Handler) (*HTTPServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &HTTPServer{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       30 * time.Second,
			MaxHeaderBytes:    64 << 10,
		},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close shuts the server down, waiting up to ten seconds for requests in
// flight, and returns when the serving goroutine has.
func (s *HTTPServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
