package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/loadgen"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// jwksServer is the loopback identity provider of a bench run: it serves a
// JWKS that a rotation can replace.
type jwksServer struct {
	*loadgen.Server
	jwks    atomic.Pointer[[]byte]
	fetches atomic.Uint64
}

// jwksPath is where jwksServer serves its key set.
const jwksPath = "/.well-known/jwks.json"

func startJWKSServer(keys ...*sign.Key) (*jwksServer, error) {
	s := &jwksServer{}
	s.publish(keys...)
	srv, err := loadgen.Serve(&fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if string(ctx.Path()) != jwksPath {
				ctx.SetStatusCode(fasthttp.StatusNotFound)
				return
			}
			s.fetches.Add(1)
			ctx.SetContentType("application/json")
			ctx.SetBody(*s.jwks.Load())
		},
		Name:                  "bench-idp",
		MaxIdleWorkerDuration: time.Second,
	})
	if err != nil {
		return nil, err
	}
	s.Server = srv
	return s, nil
}

// publish replaces the served key set.
func (s *jwksServer) publish(keys ...*sign.Key) {
	doc := sign.JWKS(keys...)
	s.jwks.Store(&doc)
}

// jwtgateTarget is jwtgate's server on a loopback port, configured like
// demo mode but with its keys fetched from a jwksServer.
type jwtgateTarget struct {
	srv  *server.Server
	ln   net.Listener
	done chan error
	url  string
}

// startJWTGate starts jwtgate's server for one issuer whose JWKS is at
// jwksURL, checking iss and aud, with the unknown-kid cooldown given.
func startJWTGate(ctx context.Context, issuer, jwksURL, audience, alg string, cooldown time.Duration, logw io.Writer) (*jwtgateTarget, error) {
	a, ok := engine.ParseAlg(alg)
	if !ok {
		return nil, fmt.Errorf("unknown algorithm %q", alg)
	}
	cfg := &config.Config{
		Listen: "127.0.0.1:0",
		Issuers: []config.Issuer{{
			Issuer:     issuer,
			JWKSURL:    jwksURL,
			Audiences:  []string{audience},
			Algorithms: []engine.Alg{a},
			Cooldown:   cooldown,
		}},
		Log: config.Log{Level: "warn"},
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(cfg, server.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		srv.Close()
		return nil, err
	}
	if !srv.Ready() {
		srv.Close()
		return nil, errors.New("jwtgate has no keys: the JWKS fetch failed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	t := &jwtgateTarget{srv: srv, ln: ln, done: make(chan error, 1), url: "http://" + ln.Addr().String() + "/auth"}
	go func() { t.done <- srv.Serve(ln) }()
	return t, nil
}

// Close drains the server and stops its key store.
func (t *jwtgateTarget) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := t.srv.Shutdown(ctx)
	if serveErr := <-t.done; serveErr != nil && !errors.Is(serveErr, net.ErrClosed) {
		err = errors.Join(err, fmt.Errorf("serve: %w", serveErr))
	}
	t.srv.Close()
	return err
}
