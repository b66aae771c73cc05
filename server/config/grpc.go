package config

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults of the gRPC ext_authz service.
const (
	DefaultGRPCMaxRecvBytes         = 64 << 10
	DefaultGRPCMaxConcurrentStreams = 1024
	DefaultGRPCKeepaliveMinTime     = 10 * time.Second
	DefaultGRPCMetadataNamespace    = "jwt_payload"
)

// Bounds of the gRPC settings.
const (
	minGRPCRecvBytes = 1 << 10
	maxGRPCRecvBytes = 16 << 20
	maxGRPCStreams   = 1 << 20
)

// GRPC configures the gRPC ext_authz service (envoy.service.auth.v3), served
// on GRPCListen.
type GRPC struct {
	// TLSCertFile and TLSKeyFile, both or neither, serve TLS with this
	// certificate chain and private key (PEM). Neither: plaintext (h2c), as
	// Envoy's grpc_service expects without a transport_socket.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// MaxRecvBytes bounds one CheckRequest message (default 64 KiB); a
	// larger one is answered RESOURCE_EXHAUSTED. Envoy's CheckRequest
	// carries the request's headers, so it must exceed
	// limits.max_header_bytes only if the proxy sends more than that.
	MaxRecvBytes int `yaml:"max_recv_bytes"`
	// MaxConcurrentStreams bounds the Check calls served at once on one
	// connection (default 1024); more wait in the client.
	MaxConcurrentStreams uint32 `yaml:"max_concurrent_streams"`
	// KeepaliveMinTime is the shortest interval between client keepalive
	// pings that is tolerated (default 10s); a client pinging more often
	// is disconnected with GOAWAY "too_many_pings".
	KeepaliveMinTime time.Duration `yaml:"keepalive_min_time"`
	// PayloadInMetadata adds the verified claims to the OK answer's
	// dynamic_metadata, under MetadataNamespace, as Envoy's jwt_authn
	// payload_in_metadata does (default off).
	PayloadInMetadata bool `yaml:"payload_in_metadata"`
	// MetadataNamespace is the key of the claims in the dynamic metadata
	// (default "jwt_payload"); Envoy files it under the ext_authz filter's
	// namespace, envoy.filters.http.ext_authz.
	MetadataNamespace string `yaml:"metadata_namespace"`
}

// checkGRPC fills in the gRPC defaults and checks the gRPC settings.
func (c *Config) checkGRPC(p *problems) {
	g := &c.GRPC
	setInt(&g.MaxRecvBytes, DefaultGRPCMaxRecvBytes)
	if g.MaxConcurrentStreams == 0 {
		g.MaxConcurrentStreams = DefaultGRPCMaxConcurrentStreams
	}
	if g.KeepaliveMinTime == 0 {
		g.KeepaliveMinTime = DefaultGRPCKeepaliveMinTime
	}
	if g.MetadataNamespace == "" {
		g.MetadataNamespace = DefaultGRPCMetadataNamespace
	}
	if c.GRPCListen != "" {
		if host, port, err := net.SplitHostPort(c.GRPCListen); err != nil {
			p.add("grpc_listen", "%q is not a host:port address: %v%s", c.GRPCListen, err, listenHint(c.GRPCListen))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			p.add("grpc_listen", "%q has no valid port", c.GRPCListen)
		} else if strings.ContainsAny(host, " /") {
			p.add("grpc_listen", "%q has an invalid host", c.GRPCListen)
		} else if c.GRPCListen == c.Listen && n != 0 {
			p.add("grpc_listen", "%q is also the HTTP listen address: give the gRPC service a port of its own", c.GRPCListen)
		}
	}
	if (g.TLSCertFile == "") != (g.TLSKeyFile == "") {
		p.add("grpc.tls_cert_file", "set both grpc.tls_cert_file and grpc.tls_key_file for TLS, or neither for plaintext")
	}
	for _, f := range []struct{ field, path string }{{"grpc.tls_cert_file", g.TLSCertFile}, {"grpc.tls_key_file", g.TLSKeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			p.add(f.field, "cannot read %q: %v", f.path, err)
		}
	}
	if g.MaxRecvBytes < minGRPCRecvBytes || g.MaxRecvBytes > maxGRPCRecvBytes {
		p.add("grpc.max_recv_bytes", "must be between %d and %d (default %d)", minGRPCRecvBytes, maxGRPCRecvBytes, DefaultGRPCMaxRecvBytes)
	}
	if g.MaxConcurrentStreams > maxGRPCStreams {
		p.add("grpc.max_concurrent_streams", "must be at most %d (default %d)", maxGRPCStreams, DefaultGRPCMaxConcurrentStreams)
	}
	if g.KeepaliveMinTime < 0 {
		p.add("grpc.keepalive_min_time", "must not be negative (default %s)", DefaultGRPCKeepaliveMinTime)
	}
}
