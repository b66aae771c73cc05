package bench

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// JWTGateServer is jwtgate's own server (the forward-auth endpoint of
// `jwtgate serve`) on a loopback port, trusting the fixture's key sets with
// the shared policy: one issuer per key set, as jwtgate is configured to
// trust both public keys and an HMAC secret.
type JWTGateServer struct {
	// URL is "http://127.0.0.1:PORT".
	URL string

	srv  *server.Server
	done chan error
}

// StartJWTGate starts jwtgate's server in this process. cacheEntries sizes
// the verified-token cache: 0 keeps the default (on), a negative value
// turns it off.
func StartJWTGate(f *Fixture, cacheEntries int) (*JWTGateServer, error) {
	cfg, err := config.Decode([]byte("log:\n  level: error\n"))
	if err != nil {
		return nil, err
	}
	algs := append([]engine.Alg(nil), Algs...)
	leeway := Leeway
	for _, set := range f.Sets() {
		cfg.Issuers = append(cfg.Issuers, config.Issuer{
			Issuer:     set.Issuer,
			Audiences:  []string{Audience},
			Algorithms: algs,
			Leeway:     &leeway,
			InlineJWKS: set.JWKS,
		})
	}
	if cacheEntries < 0 {
		off := 0
		cfg.Cache.Entries = &off
	}
	srv, err := server.New(cfg, server.Options{Logger: quiet, Clock: clockFunc(f.Now)})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(context.Background()); err != nil {
		srv.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	s := &JWTGateServer{URL: "http://" + ln.Addr().String(), srv: srv, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ln) }()
	return s, nil
}

// Close shuts the server down, waiting up to ten seconds for requests in
// flight, and stops its key store.
func (s *JWTGateServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, net.ErrClosed) {
		err = errors.Join(err, serveErr)
	}
	s.srv.Close()
	return err
}
