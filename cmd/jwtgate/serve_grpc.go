package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"

	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
	"github.com/jwtgate/jwtgate/server/extauthz"
)

// grpcFrontEnd is the gRPC ext_authz service of serve (grpc_listen,
// --grpc-listen), run beside the HTTP server with the same decision, the
// same metrics page and the same drain.
type grpcFrontEnd struct {
	srv  *extauthz.Server
	addr net.Addr
	done chan error
}

// startGRPC listens on cfg.GRPCListen and serves the ext_authz service
// until ctx ends (then it drains as the HTTP server does). It returns nil
// when no gRPC address is configured.
func startGRPC(ctx context.Context, cfg *config.Config, http *server.Server, logger *slog.Logger) (*grpcFrontEnd, error) {
	if cfg.GRPCListen == "" {
		return nil, nil
	}
	sc := extauthz.ServerConfig{
		// Each Check takes the configuration serving now (policy,
		// verifier, realm, grpc.payload_in_metadata): SIGHUP and --watch
		// reload the gRPC service with the HTTP server. The settings
		// below are fixed until a restart.
		Config:               extauthz.Config{Generations: http, Metrics: http.Metrics()},
		MaxRecvBytes:         cfg.GRPC.MaxRecvBytes,
		MaxConcurrentStreams: cfg.GRPC.MaxConcurrentStreams,
		KeepaliveMinTime:     cfg.GRPC.KeepaliveMinTime,
		Ready:                http.Ready,
		Draining:             http.DrainStarted(),
	}
	if cfg.GRPC.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.GRPC.TLSCertFile, cfg.GRPC.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("grpc.tls_cert_file, grpc.tls_key_file: %w", err)
		}
		sc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	gs, err := extauthz.NewServer(sc)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.GRPCListen)
	if err != nil {
		return nil, fmt.Errorf("--grpc-listen %s: %w", cfg.GRPCListen, err)
	}
	g := &grpcFrontEnd{srv: gs, addr: ln.Addr(), done: make(chan error, 1)}
	go func() { g.done <- gs.Run(ctx, ln) }()
	logger.Info("jwtgate serving gRPC ext_authz", "grpc_listen", ln.Addr().String(), "tls", sc.TLS != nil)
	return g, nil
}

// stop stops the service at once (a second signal).
func (g *grpcFrontEnd) stop() {
	if g != nil {
		g.srv.Stop()
	}
}

// wait waits for the service to shut down.
func (g *grpcFrontEnd) wait() error {
	if g == nil {
		return nil
	}
	return <-g.done
}
