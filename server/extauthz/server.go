package extauthz

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

// ServiceName is the gRPC service Check belongs to; the health service
// reports it (and the server as a whole, "") SERVING when ready.
const ServiceName = "envoy.service.auth.v3.Authorization"

// Defaults of ServerConfig.
const (
	DefaultMaxRecvBytes         = 64 << 10
	DefaultMaxConcurrentStreams = 1024
	DefaultKeepaliveMinTime     = 10 * time.Second
	DefaultReadyInterval        = 250 * time.Millisecond
	DefaultShutdownTimeout      = 30 * time.Second
)

// ServerConfig configures a Server: the Service's Config and the
// transport's limits and life cycle.
type ServerConfig struct {
	Config
	// TLS, if set, serves TLS with it (credentials.NewTLS adds "h2").
	// nil: plaintext HTTP/2, as Envoy's grpc_service expects without a
	// transport_socket.
	TLS *tls.Config
	// MaxRecvBytes bounds one CheckRequest (default 64 KiB); a larger one
	// is answered RESOURCE_EXHAUSTED.
	MaxRecvBytes int
	// MaxConcurrentStreams bounds the calls served at once per connection
	// (default 1024); a client queues the rest.
	MaxConcurrentStreams uint32
	// KeepaliveMinTime is the shortest interval between a client's
	// keepalive pings that is tolerated (default 10s).
	KeepaliveMinTime time.Duration
	// Ready reports whether the key store has usable keys and the server
	// is not draining (server.Server.Ready); the health service follows
	// it. nil: always ready.
	Ready func() bool
	// ReadyInterval is how often Ready is polled (default 250ms).
	ReadyInterval time.Duration
	// Draining, if set, is closed when the HTTP server starts draining
	// (server.Server.DrainStarted): the health service goes NOT_SERVING at
	// once, for good.
	Draining <-chan struct{}
	// DrainPeriod is how long Run keeps serving, unready, once its context
	// ends, before it stops accepting calls. With Config.Generations it is
	// left unset: the configuration serving when the shutdown starts gives
	// it (limits.drain_period), as it does to the HTTP server.
	DrainPeriod time.Duration
	// ShutdownTimeout bounds Run's wait for calls in flight after the
	// drain period (default 30s). With Config.Generations it is left unset:
	// the configuration serving when the shutdown starts gives it
	// (limits.shutdown_timeout).
	ShutdownTimeout time.Duration
}

// Server serves a Service and the health service on gRPC.
type Server struct {
	svc     *Service
	gs      *grpc.Server
	health  *health.Server
	cfg     ServerConfig
	drain   chan struct{} // closed when draining starts
	once    sync.Once
	stop    chan struct{} // closed by Stop
	stopped sync.Once
}

// NewServer returns a Server of cfg; Serve or Run serves it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Generations != nil && (cfg.DrainPeriod != 0 || cfg.ShutdownTimeout != 0) {
		return nil, errorString("extauthz: with Config.Generations, leave ServerConfig.DrainPeriod and ShutdownTimeout unset: limits.drain_period and limits.shutdown_timeout of the configuration serving at shutdown apply")
	}
	svc, err := NewService(cfg.Config)
	if err != nil {
		return nil, err
	}
	if cfg.MaxRecvBytes == 0 {
		cfg.MaxRecvBytes = DefaultMaxRecvBytes
	}
	if cfg.MaxConcurrentStreams == 0 {
		cfg.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	if cfg.KeepaliveMinTime == 0 {
		cfg.KeepaliveMinTime = DefaultKeepaliveMinTime
	}
	if cfg.ReadyInterval == 0 {
		cfg.ReadyInterval = DefaultReadyInterval
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	if cfg.MaxRecvBytes < 0 || cfg.KeepaliveMinTime < 0 || cfg.DrainPeriod < 0 || cfg.ShutdownTimeout < 0 {
		return nil, fmt.Errorf("extauthz: negative limit in ServerConfig: max recv bytes %d, keepalive min time %s, drain period %s, shutdown timeout %s",
			cfg.MaxRecvBytes, cfg.KeepaliveMinTime, cfg.DrainPeriod, cfg.ShutdownTimeout)
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxRecvBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		// Header blocks are bounded like messages (a CheckRequest carries
		// the proxied request's headers in its message, not in gRPC's).
		grpc.MaxHeaderListSize(uint32(cfg.MaxRecvBytes)),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: cfg.KeepaliveMinTime, PermitWithoutStream: true}),
		// Idle connections are pinged, and dead ones closed.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
		grpc.ConnectionTimeout(10 * time.Second),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s := &Server{
		svc: svc, gs: grpc.NewServer(opts...), health: health.NewServer(), cfg: cfg,
		drain: make(chan struct{}), stop: make(chan struct{}),
	}
	authv3.RegisterAuthorizationServer(s.gs, svc)
	healthpb.RegisterHealthServer(s.gs, s.health)
	s.setServing(false)
	return s, nil
}

// Service returns the Check service the server serves.
func (s *Server) Service() *Service { return s.svc }

// setServing sets the status of the server and of ServiceName.
func (s *Server) setServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(ServiceName, st)
}

// Drain makes the health service report NOT_SERVING from now on, while
// Check is still answered. It is idempotent.
func (s *Server) Drain() {
	s.once.Do(func() {
		close(s.drain)
		s.health.Shutdown()
	})
}

// Serve answers calls on ln until Stop or the end of Run, and keeps the
// health service in step with Ready and Draining.
func (s *Server) Serve(ln net.Listener) error {
	done := make(chan struct{})
	defer close(done)
	go s.followReadiness(done)
	return s.gs.Serve(ln)
}

// followReadiness updates the health status until done: SERVING while
// Ready, NOT_SERVING for good once draining starts.
func (s *Server) followReadiness(done <-chan struct{}) {
	t := time.NewTicker(s.cfg.ReadyInterval)
	defer t.Stop()
	last, first := false, true
	for {
		select {
		case <-s.drain:
			return
		case <-s.cfg.Draining: // nil: never
			s.Drain()
			return
		default:
		}
		if ok := s.cfg.Ready(); ok != last || first {
			s.setServing(ok)
			last, first = ok, false
		}
		select {
		case <-done:
			return
		case <-s.drain:
			return
		case <-s.cfg.Draining:
			s.Drain()
			return
		case <-t.C:
		}
	}
}

// shutdownLimits returns the drain period and the shutdown timeout: those
// of the configuration serving now with Config.Generations, else
// ServerConfig's.
func (s *Server) shutdownLimits() (drain, timeout time.Duration) {
	if s.cfg.Generations == nil {
		return s.cfg.DrainPeriod, s.cfg.ShutdownTimeout
	}
	g := s.cfg.Generations.Acquire()
	defer g.Release()
	lim := &g.Config().Limits
	if lim.DrainPeriod != nil {
		drain = *lim.DrainPeriod
	}
	return drain, lim.ShutdownTimeout
}

// Stop stops at once: open connections are closed and calls in flight
// cancelled. Run returns. Stop is idempotent.
func (s *Server) Stop() {
	s.stopped.Do(func() { close(s.stop) })
	s.Drain()
	s.gs.Stop()
}

// Run serves on ln until ctx ends, then shuts down as the HTTP server
// does: unready at once (the health service reports NOT_SERVING), serving
// on for the drain period; then it stops accepting connections, sends
// GOAWAY and waits at most the shutdown timeout for the calls in flight.
// Stop cuts it short.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Drain()
	drainPeriod, shutdownTimeout := s.shutdownLimits()
	if drainPeriod > 0 {
		t := time.NewTimer(drainPeriod)
		select {
		case <-t.C:
		case <-s.stop:
		}
		t.Stop()
	}
	graceful := make(chan struct{})
	go func() {
		s.gs.GracefulStop()
		close(graceful)
	}()
	t := time.NewTimer(shutdownTimeout)
	select {
	case <-graceful:
	case <-t.C:
		s.gs.Stop()
	case <-s.stop:
		s.gs.Stop()
	}
	t.Stop()
	<-graceful
	return <-errc
}
