package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const grpcBase = "issuers:\n  - issuer: https://issuer.example\n    jwks_url: https://issuer.example/jwks\n    audiences: [api]\n"

// TestGRPCDefaults: without gRPC settings there is no gRPC listener, and
// every gRPC limit has its default.
func TestGRPCDefaults(t *testing.T) {
	c, err := Parse([]byte(grpcBase))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := GRPC{MaxRecvBytes: DefaultGRPCMaxRecvBytes, MaxConcurrentStreams: DefaultGRPCMaxConcurrentStreams,
		KeepaliveMinTime: DefaultGRPCKeepaliveMinTime, MetadataNamespace: DefaultGRPCMetadataNamespace}
	if c.GRPCListen != "" || c.GRPC != want {
		t.Fatalf("grpc_listen %q, grpc %+v; want none and %+v", c.GRPCListen, c.GRPC, want)
	}
}

// TestGRPCSettings: gRPC settings are read, and bad ones are errors that
// name them.
func TestGRPCSettings(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	os.WriteFile(cert, []byte("x"), 0o600)
	c, err := Parse([]byte(grpcBase + "grpc_listen: 127.0.0.1:9191\ngrpc:\n  tls_cert_file: " + cert + "\n  tls_key_file: " + cert +
		"\n  max_recv_bytes: 131072\n  max_concurrent_streams: 64\n  keepalive_min_time: 30s\n  payload_in_metadata: true\n  metadata_namespace: claims\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.GRPCListen != "127.0.0.1:9191" || c.GRPC.MaxRecvBytes != 131072 || c.GRPC.MaxConcurrentStreams != 64 ||
		c.GRPC.KeepaliveMinTime.Seconds() != 30 || !c.GRPC.PayloadInMetadata || c.GRPC.MetadataNamespace != "claims" || c.GRPC.TLSKeyFile != cert {
		t.Fatalf("%q %+v", c.GRPCListen, c.GRPC)
	}
	for extra, field := range map[string]string{
		"grpc_listen: 9191\n":                                                  "grpc_listen",
		"grpc_listen: 127.0.0.1:99999\n":                                       "grpc_listen",
		"listen: 127.0.0.1:9191\ngrpc_listen: 127.0.0.1:9191\n":                "grpc_listen",
		"grpc:\n  tls_cert_file: " + cert + "\n":                               "grpc.tls_cert_file",
		"grpc:\n  tls_cert_file: /nonexistent\n  tls_key_file: /nonexistent\n": "grpc.tls_cert_file",
		"grpc:\n  max_recv_bytes: 100\n":                                       "grpc.max_recv_bytes",
		"grpc:\n  max_recv_bytes: 1000000000\n":                                "grpc.max_recv_bytes",
		"grpc:\n  max_concurrent_streams: 2000000\n":                           "grpc.max_concurrent_streams",
		"grpc:\n  keepalive_min_time: -1s\n":                                   "grpc.keepalive_min_time",
	} {
		c, err := Parse([]byte(grpcBase + extra))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%q: %v, want an error naming %s", extra, err, field)
		}
	}
}
