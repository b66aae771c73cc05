// Package server is jwtgate's HTTP front end on fasthttp: a forward-auth
// endpoint for nginx auth_request, Caddy forward_auth, Traefik ForwardAuth
// and Envoy ext_authz (/auth and every path under it), POST /verify,
// /healthz, /readyz and /metrics; and net/http and fasthttp middleware for
// programs that embed verification.
//
// Answers follow RFC 6750: 200 exactly with identity headers for a valid
// token; 401 with `WWW-Authenticate: Bearer realm="…", error="invalid_token",
// error_description="…"` for a bad one, including a token for another
// audience (RFC 9068 §4); 401 with a bare challenge when there is no token;
// 403 with error="insufficient_scope" when a valid token lacks a required
// scope. A bad token never gets 400 or 5xx, and the
// token is never echoed.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// Options are the server's dependencies besides its configuration.
type Options struct {
	// Logger gets one line per key fetch failure and per configuration
	// problem (and per request with log.requests). nil: a logger built from
	// the config's log settings, writing to stderr.
	Logger *slog.Logger
	// Clock tells the time to the verifiers and the key store. nil: the
	// system clock.
	Clock engine.Clock
	// HTTPClient fetches remote key sets. nil: the key store's own client.
	HTTPClient *http.Client
	// PublishJWKS, if set, is served at /.well-known/jwks.json (demo mode
	// publishes the public half of its generated key there).
	PublishJWKS []byte
}

// Server is a configured jwtgate server: key store, verifiers, handler and
// fasthttp server.
type Server struct {
	cfg    *config.Config
	store  *keystore.Store
	h      *handler
	fs     *fasthttp.Server
	logger *slog.Logger
}

// New builds a server from a validated configuration. It does no I/O: Start
// loads the keys.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		var err error
		if logger, err = NewLogger(cfg.Log, nil); err != nil {
			return nil, err
		}
	}
	clock := opts.Clock
	if clock == nil {
		clock = engine.SystemClock
	}
	issuers := make([]keystore.Issuer, len(cfg.Issuers))
	for i := range cfg.Issuers {
		ki, err := keystoreIssuer(&cfg.Issuers[i])
		if err != nil {
			return nil, err
		}
		issuers[i] = ki
	}
	store, err := keystore.New(keystore.Options{Clock: clock, Logger: logger, HTTPClient: opts.HTTPClient}, issuers...)
	if err != nil {
		return nil, err
	}
	h, err := newHandler(cfg, handlerDeps{keys: store, ready: store.Ready, clock: clock, logger: logger})
	if err != nil {
		return nil, err
	}
	h.jwks = opts.PublishJWKS
	h.readyDetail = func(dst []byte) []byte { return appendIssuerStates(dst, store.Issuers()) }
	h.metrics.set.RegisterMetricsWriter(func(w io.Writer) { writeKeystoreMetrics(w, store, clock.Now()) })
	s := &Server{cfg: cfg, store: store, h: h, logger: logger}
	s.fs = &fasthttp.Server{
		Handler:                      h.serve,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		ReadTimeout:                  cfg.Limits.ReadTimeout,
		WriteTimeout:                 cfg.Limits.WriteTimeout,
		IdleTimeout:                  cfg.Limits.IdleTimeout,
		ReadBufferSize:               cfg.Limits.MaxHeaderBytes,
		MaxRequestBodySize:           cfg.Limits.MaxVerifyBodyBytes,
		Concurrency:                  cfg.Limits.Concurrency,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		// Idle workers are cleaned (and, after Shutdown, the cleaner itself
		// ends) every MaxIdleWorkerDuration: 1 s instead of fasthttp's 10 s
		// so that a stopped server leaves no goroutine behind for long.
		MaxIdleWorkerDuration: time.Second,
		Logger:                fasthttpLogger{logger},
		ErrorHandler:          httpError,
	}
	return s, nil
}

// keystoreIssuer translates an issuer's key settings for the key store.
func keystoreIssuer(is *config.Issuer) (keystore.Issuer, error) {
	ki := keystore.Issuer{
		Issuer:         is.Issuer,
		JWKSURL:        is.JWKSURL,
		JWKSFile:       is.JWKSFile,
		JWKS:           is.InlineJWKS,
		PEMFiles:       is.PEMFiles,
		Discovery:      is.Discovery,
		Cooldown:       is.Cooldown,
		RefreshDefault: is.RefreshInterval,
		RefreshMin:     is.RefreshMin,
		RefreshMax:     is.RefreshMax,
		FetchTimeout:   is.FetchTimeout,
		MaxBody:        is.MaxJWKSBytes,
	}
	for _, name := range is.Algorithms {
		a, ok := engine.ParseAlg(name)
		if !ok {
			return ki, fmt.Errorf("issuer %q: unknown algorithm %q", is.Issuer, name)
		}
		ki.Algorithms = append(ki.Algorithms, a)
	}
	return ki, nil
}

// Start loads every issuer's keys once and starts their background
// refresh. Bad key files are fatal (returned); a remote source that cannot
// be fetched yet is not: the key store logs the failure, /readyz stays 503
// and the issuer's tokens get 401 "keys unavailable" until a retry succeeds.
func (s *Server) Start(ctx context.Context) error {
	err := s.store.Start(ctx)
	if err == nil || !errors.Is(err, keystore.ErrConfig) && !errors.Is(err, keystore.ErrClosed) {
		return nil
	}
	return err
}

// Handler returns the fasthttp handler of every endpoint, for serving it on
// a fasthttp.Server of one's own or calling it in tests.
func (s *Server) Handler() fasthttp.RequestHandler { return s.h.serve }

// Ready reports whether every issuer has usable keys.
func (s *Server) Ready() bool { return s.store.Ready() }

// Serve answers requests on ln until Shutdown.
// Connections closed after a refused request linger (see lingerConn) so that
// the refusal reaches a client still sending.
func (s *Server) Serve(ln net.Listener) error { return s.fs.Serve(lingerListener{ln}) }

// Shutdown stops accepting connections and waits for in-flight requests to
// finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { return s.fs.ShutdownWithContext(ctx) }

// Close stops the key store's background work. Call it after Shutdown.
func (s *Server) Close() { s.store.Close() }

// Run serves on ln until ctx ends (SIGTERM, SIGINT), then drains in-flight
// requests for at most the configured shutdown timeout and closes the key
// store.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.logger.Info("shutting down: draining in-flight requests", "timeout", s.cfg.Limits.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Limits.ShutdownTimeout)
	defer cancel()
	err := s.Shutdown(sctx)
	if serr := <-errc; err == nil {
		err = serr
	}
	s.Close()
	return err
}

// httpError answers a request fasthttp could not read — never a token
// problem, which always reaches the handler: 431 for a header block over
// limits.max_header_bytes, 413 for a body over limits.max_verify_body_bytes,
// 408 for a read timeout, 400 for malformed HTTP.
func httpError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	status, reason := fasthttp.StatusBadRequest, "malformed_http"
	switch {
	case errors.As(err, &small):
		status, reason = fasthttp.StatusRequestHeaderFieldsTooLarge, "header_too_large"
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, reason = fasthttp.StatusRequestEntityTooLarge, "body_too_large"
	case errors.As(err, &netErr) && netErr.Timeout():
		status, reason = fasthttp.StatusRequestTimeout, "timeout"
	}
	lingerOnClose(ctx.Conn()) // fasthttp closes now, with the request unread
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType(contentJSON)
	ctx.SetBodyString(`{"error":"` + reason + `"}` + "\n")
}

// fasthttpLogger routes fasthttp's own messages to slog.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Warn(fmt.Sprintf(format, args...), "component", "fasthttp")
}

// appendIssuerStates appends the issuers' states as a JSON array.
func appendIssuerStates(dst []byte, states []keystore.IssuerStatus) []byte {
	dst = append(dst, '[')
	for i, st := range states {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"issuer":`...)
		dst = appendJSONString(dst, st.Issuer)
		dst = append(dst, `,"keys":`...)
		dst = fmt.Appendf(dst, "%d", st.Keys)
		dst = append(dst, `,"ready":`...)
		dst = fmt.Appendf(dst, "%t", st.Ready)
		if !st.LastRefresh.IsZero() {
			dst = append(dst, `,"last_refresh":`...)
			dst = appendJSONString(dst, st.LastRefresh.UTC().Format(time.RFC3339))
		}
		if st.LastError != "" {
			dst = append(dst, `,"error":`...)
			dst = appendJSONString(dst, st.LastError)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}
