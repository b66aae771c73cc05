package server

import (
	"reflect"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/server/config"
)

// TestRestartSettingsGRPC: a reload that changes the gRPC listener, its TLS
// files or its limits names them as restart-only; the gRPC settings that
// each Check takes from the generation serving are not named.
func TestRestartSettingsGRPC(t *testing.T) {
	base := func() *config.Config {
		return &config.Config{GRPCListen: "127.0.0.1:9001", GRPC: config.GRPC{
			MaxRecvBytes: 64 << 10, MaxConcurrentStreams: 1024, KeepaliveMinTime: 10 * time.Second, MetadataNamespace: "jwt_payload",
		}}
	}
	for _, tc := range []struct {
		name   string
		change func(*config.Config)
		want   []string
	}{
		{"nothing", func(*config.Config) {}, nil},
		{"grpc_listen", func(c *config.Config) { c.GRPCListen = "127.0.0.1:9002" }, []string{"grpc_listen"}},
		{"grpc off", func(c *config.Config) { c.GRPCListen = "" }, []string{"grpc_listen"}},
		{"tls cert", func(c *config.Config) { c.GRPC.TLSCertFile = "/etc/jwtgate/grpc.crt" }, []string{"grpc.tls_cert_file, grpc.tls_key_file"}},
		{"tls key", func(c *config.Config) { c.GRPC.TLSKeyFile = "/etc/jwtgate/grpc.key" }, []string{"grpc.tls_cert_file, grpc.tls_key_file"}},
		{"max_recv_bytes", func(c *config.Config) { c.GRPC.MaxRecvBytes = 1 << 20 }, []string{"grpc limits (max_recv_bytes, max_concurrent_streams, keepalive_min_time)"}},
		{"max_concurrent_streams", func(c *config.Config) { c.GRPC.MaxConcurrentStreams = 8 }, []string{"grpc limits (max_recv_bytes, max_concurrent_streams, keepalive_min_time)"}},
		{"keepalive_min_time", func(c *config.Config) { c.GRPC.KeepaliveMinTime = time.Minute }, []string{"grpc limits (max_recv_bytes, max_concurrent_streams, keepalive_min_time)"}},
		{"payload_in_metadata (per generation)", func(c *config.Config) { c.GRPC.PayloadInMetadata = true }, nil},
		{"metadata_namespace (per generation)", func(c *config.Config) { c.GRPC.MetadataNamespace = "claims" }, nil},
		{"listen and grpc_listen", func(c *config.Config) { c.Listen, c.GRPCListen = ":8081", ":9002" }, []string{"listen", "grpc_listen"}},
	} {
		next := base()
		tc.change(next)
		if got := restartSettings(base(), next); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: restart settings %q, want %q", tc.name, got, tc.want)
		}
	}
}
