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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
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
	// Load reads the configuration again for Reload (the file and the
	// command-line overrides, for jwtgate serve). nil: Reload fails with
	// ErrNoLoader.
	Load func() (*config.Config, error)
}

// Server is a configured jwtgate server: the current generation (key store,
// verifiers, handler; see Generation and Reload) and the fasthttp server.
type Server struct {
	gen     atomic.Pointer[Generation]
	opts    Options
	clock   engine.Clock
	metrics *serverMetrics // shared by every generation
	fs      *fasthttp.Server
	logger  *slog.Logger
	connCap int // open connections served at once; more are refused
	// connLimits are the timeouts the connections keep (see deadline.go).
	connLimits *connLimits

	acceptErrors   *metrics.Counter // temporary accept errors, backed off
	reloads        *metrics.Counter // successful reloads
	reloadFailures *metrics.Counter // failed reloads
	reloadMu       sync.Mutex       // serializes Reload and Close
	closed         bool             // Close was called; guarded by reloadMu

	draining     atomic.Bool
	drainOnce    sync.Once
	drainStarted chan struct{} // closed when draining starts
	stopOnce     sync.Once
	stopNow      chan struct{} // closed by Stop
}

// New builds a server from a validated configuration. It does no I/O: Start
// loads the keys. An invalid configuration is a *ConfigError.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &ConfigError{err}
	}
	logger := opts.Logger
	if logger == nil {
		var err error
		if logger, err = NewLogger(cfg.Log, nil); err != nil {
			return nil, &ConfigError{err}
		}
	}
	clock := opts.Clock
	if clock == nil {
		clock = engine.SystemClock
	}
	s := &Server{
		opts: opts, clock: clock, logger: logger, metrics: newServerMetrics(),
		connCap:      connectionCap(cfg.Limits.Concurrency, cfg.Limits.FDHeadroom, descriptorLimit()),
		connLimits:   newConnLimits(cfg.Limits.ReadTimeout, cfg.Limits.WriteTimeout, cfg.Limits.IdleTimeout),
		drainStarted: make(chan struct{}),
		stopNow:      make(chan struct{}),
	}
	store, err := s.newStore(cfg)
	if err != nil {
		return nil, err
	}
	h, err := s.newHandler(cfg, store, nil)
	if err != nil {
		return nil, &ConfigError{err}
	}
	s.gen.Store(newGeneration(1, cfg, h, store))
	s.registerServerMetrics()
	s.fs = &fasthttp.Server{
		Handler:               s.serve,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		// No ReadTimeout, WriteTimeout or IdleTimeout: the connections
		// (lingerConn, from Serve's and Run's listener) keep them, without
		// fasthttp's three clock readings per request (see deadline.go).
		ReadBufferSize:     cfg.Limits.MaxHeaderBytes,
		MaxRequestBodySize: cfg.Limits.MaxVerifyBodyBytes,
		// fasthttp serves each connection on one worker for its whole
		// life, so Concurrency caps the open connections: one more is
		// answered 503 and closed at once.
		Concurrency:                  s.connCap,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		// Idle workers are cleaned (and, after Shutdown, the cleaner itself
		// ends) every MaxIdleWorkerDuration: 1 s instead of fasthttp's 10 s
		// so that a stopped server leaves no goroutine behind for long.
		MaxIdleWorkerDuration: time.Second,
		Logger:                fasthttpLogger{logger},
		ErrorHandler:          httpError,
		// Badly framed requests are refused before any 100 Continue and
		// before fasthttp waits for a body it should not read.
		HeaderReceived: h.headerReceived,
	}
	return s, nil
}

// Start loads every issuer's keys once and starts their background
// refresh. An unusable key file is fatal (a *KeySourceError); a remote
// source that cannot be fetched yet is not: the key store logs the failure,
// /readyz stays 503 and the issuer's tokens get 401 "keys unavailable" until
// a retry succeeds.
func (s *Server) Start(ctx context.Context) error { return startStore(ctx, s.gen.Load().store) }

// Handler returns the fasthttp handler of every endpoint, for serving it on
// a fasthttp.Server of one's own or calling it in tests. Each request is
// answered by the generation current when it arrives (see Reload).
func (s *Server) Handler() fasthttp.RequestHandler { return s.serveGeneration }

// serveGeneration answers a request with the current generation.
func (s *Server) serveGeneration(ctx *fasthttp.RequestCtx) {
	x := exchangePool.Get().(*exchange)
	g := s.acquire(x.shard)
	g.h.serve(ctx, x)
	g.release(x.shard)
	exchangePool.Put(x)
}

// Ready reports whether every issuer has usable keys and the server is not
// draining: what /readyz answers.
func (s *Server) Ready() bool { return !s.draining.Load() && s.gen.Load().store.Ready() }

// Draining reports whether the server is draining: Drain was called (Run
// calls it when its context ends), /readyz answers 503 and every answer
// carries "Connection: close".
func (s *Server) Draining() bool { return s.draining.Load() }

// DrainStarted returns a channel that is closed when draining starts, for
// other front ends (a gRPC health service) to go unready at the same moment.
func (s *Server) DrainStarted() <-chan struct{} { return s.drainStarted }

// Drain starts draining: from now on /readyz answers 503 and every answer
// carries "Connection: close", so that load balancers and keep-alive
// clients move to other instances while the server still answers them.
// It does not stop the server; Shutdown does. Drain is idempotent.
func (s *Server) Drain() {
	s.drainOnce.Do(func() {
		s.draining.Store(true)
		close(s.drainStarted)
	})
}

// ConnectionLimit returns the number of connections the server serves at
// once: limits.concurrency, lowered to the open-file limit less
// limits.fd_headroom. A connection over it is answered 503 and closed.
func (s *Server) ConnectionLimit() int { return s.connCap }

// Serve answers requests on ln until Shutdown. A temporary accept error
// (out of descriptors or kernel memory) never ends it: it backs off and
// accepts again (see listener). Connections closed after a refused request
// linger (see lingerConn) so that the refusal reaches a client still
// sending.
func (s *Server) Serve(ln net.Listener) error {
	return s.fs.Serve(newListener(ln, s.logger, s.acceptErrors, s.connLimits))
}

// Shutdown stops accepting connections, closes the idle ones and waits for
// in-flight requests to finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { return s.fs.ShutdownWithContext(ctx) }

// Close stops the key store's background work. Call it after Shutdown.
// (The key stores of generations a reload replaced close themselves once
// their last request is done.)
func (s *Server) Close() {
	s.reloadMu.Lock()
	s.closed = true
	s.reloadMu.Unlock()
	s.gen.Load().store.Close()
}

// Stop ends Run's shutdown at once: the rest of the drain period is skipped
// and Run returns without waiting for in-flight requests (a second SIGTERM
// or SIGINT). Stop is idempotent.
func (s *Server) Stop() { s.stopOnce.Do(func() { close(s.stopNow) }) }

// Run serves on ln until ctx ends (SIGTERM, SIGINT), then shuts down in
// three phases, each logged: it drains (see Drain; /readyz is 503 from then
// on) for limits.drain_period;
// it stops accepting connections and waits for in-flight requests for at
// most limits.shutdown_timeout; it closes the key store. Stop cuts the
// first two phases short.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	l := newListener(ln, s.logger, s.acceptErrors, s.connLimits)
	errc := make(chan error, 1)
	go func() { errc <- s.fs.Serve(l) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	// Unready at once, even without a drain period: the shutdown may still
	// wait for requests in flight.
	s.Drain()
	stopped := false
	limits := &s.gen.Load().cfg.Limits
	if period := *limits.DrainPeriod; period > 0 {
		s.logger.Info("shutting down: draining (/readyz 503, Connection: close on every answer)", "drain_period", period)
		stopped = !sleepOrClosed(period, s.stopNow)
	}
	var err error
	if !stopped {
		s.logger.Info("shutting down: no new connections; waiting for in-flight requests", "timeout", limits.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), limits.ShutdownTimeout)
		go func() {
			select {
			case <-s.stopNow:
				cancel()
			case <-sctx.Done():
			}
		}()
		err = s.Shutdown(sctx)
		cancel()
		if err != nil {
			select {
			case <-s.stopNow:
				stopped = true
			default:
			}
		}
	}
	if stopped {
		s.logger.Warn("shutting down: stopped at once, in-flight requests dropped", "open_connections", s.fs.GetOpenConnectionsCount())
		err = nil
		// Close the idle connections at least; busy ones are dropped when
		// the process exits.
		sctx, cancel := context.WithCancel(context.Background())
		cancel()
		s.Shutdown(sctx) //nolint:errcheck // the context is done: it returns at once
	}
	// Shutdown closes the listener only if Serve has registered it: close
	// it here too, so that a Serve that has not started yet (or whose
	// shutdown Stop cut short) returns.
	l.Close() //nolint:errcheck // closed twice: the error only repeats
	if serr := <-errc; err == nil {
		err = serr
	}
	s.Close()
	s.logger.Info("shut down")
	return err
}

// serve is the fasthttp handler: every endpoint, and while draining a
// "Connection: close" on every answer. The connection then closes the way
// a refused one does (see lingerConn), so that a request the client sent
// before it read the answer is not met with a reset.
func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	x := exchangePool.Get().(*exchange)
	g := s.acquire(x.shard)
	requestRead(ctx.Conn())
	g.h.serveHooked(ctx, x) // s.fs runs headerReceived on every request first
	g.release(x.shard)
	exchangePool.Put(x)
	if s.draining.Load() {
		ctx.SetConnectionClose()
		lingerOnClose(ctx.Conn())
	}
}

// Connection metric families.
var (
	metricAcceptErrors = family("jwtgate_accept_errors_total", typeCounter,
		"Temporary accept errors (out of descriptors or kernel memory) the listener backed off from instead of exiting.")
	metricConnsOpen = family("jwtgate_connections_open", typeGauge,
		"HTTP connections open now.")
	metricConnsLimit = family("jwtgate_connections_limit", typeGauge,
		"The HTTP connection cap: limits.concurrency, lowered to the open-file limit less limits.fd_headroom.")
	metricConnsRefused = family("jwtgate_connections_refused_total", typeCounter,
		"HTTP connections over the connection cap, answered 503 and closed.")
	metricDraining = family("jwtgate_draining", typeGauge,
		"1 while the server drains after SIGTERM (readyz 503, Connection: close) before it stops, else 0.")
)

// writeConnMetrics writes the connection gauges and counters.
func (s *Server) writeConnMetrics(w io.Writer) {
	open := s.fs.GetOpenConnectionsCount()
	if open > 0 {
		open-- // fasthttp counts each running accept loop as a connection
	}
	metrics.WriteGaugeUint64(w, metricConnsOpen, uint64(open))
	metrics.WriteGaugeUint64(w, metricConnsLimit, uint64(s.connCap))
	metrics.WriteCounterUint64(w, metricConnsRefused, uint64(s.fs.GetRejectedConnectionsCount()))
	var draining uint64
	if s.draining.Load() {
		draining = 1
	}
	metrics.WriteGaugeUint64(w, metricDraining, draining)
}

// connectionCap is the number of connections to serve at once: concurrency,
// lowered so that the connections leave headroom descriptors free of the
// open-file limit (0: unknown). A limit too low for the headroom leaves
// half of it to connections.
func connectionCap(concurrency, headroom int, limit uint64) int {
	if limit == 0 {
		return concurrency
	}
	avail := limit / 2
	if limit > 2*uint64(headroom) {
		avail = limit - uint64(headroom)
	}
	if avail < 1 {
		avail = 1
	}
	if avail < uint64(concurrency) {
		return int(avail)
	}
	return concurrency
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
	if strings.HasPrefix(format, "The incoming connection cannot be served") {
		// fasthttp's advice (raise Server.Concurrency) would run the
		// process out of descriptors: say what the cap is made of.
		f.l.Warn("connections over the cap answered 503 and closed (logged at most once a minute; counted in "+metricConnsRefused+
			"): the cap is limits.concurrency, lowered to the open-file limit less limits.fd_headroom; raise the open-file limit (ulimit -n) to serve more",
			"component", "fasthttp", "message", fmt.Sprintf(format, args...))
		return
	}
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
