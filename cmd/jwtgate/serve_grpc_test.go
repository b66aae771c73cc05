package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// checkOver asks the ext_authz service on conn about a GET of path with tok.
func checkOver(t *testing.T, conn *grpc.ClientConn, path, tok string) *authv3.CheckResponse {
	t.Helper()
	h := map[string]string{":path": path, ":method": "GET", ":authority": "api.example"}
	if tok != "" {
		h["authorization"] = "Bearer " + tok
	}
	resp, err := authv3.NewAuthorizationClient(conn).Check(context.Background(), &authv3.CheckRequest{
		Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Headers: h}}},
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return resp
}

// TestServeGRPC: --grpc-listen serves the ext_authz service beside HTTP,
// with the configuration's rules, and the health service goes
// NOT_SERVING when the shutdown starts.
func TestServeGRPC(t *testing.T) {
	key := sign.MustGenerate(engine.ES256, "k")
	cfg := writeConfig(t, key, "rules:\n  - path: /admin\n    scopes: [admin]\nlimits:\n  drain_period: 1h\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopNow := make(chan struct{})
	stderr := newWatcher()
	exited := make(chan int, 1)
	go func() {
		exited <- serveUntil(ctx, stopNow, nil, []string{"--config", cfg, "--grpc-listen", "127.0.0.1:0"}, "", newWatcher(), stderr)
	}()
	line := stderr.await(t, "gRPC ext_authz")
	addr := regexp.MustCompile(`grpc_listen=(\S+)`).FindStringSubmatch(line)[1]
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tok, _ := key.Sign(map[string]any{"iss": "https://issuer.example", "aud": "api", "sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
	if resp := checkOver(t, conn, "/orders", tok); codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		t.Fatalf("valid token: %v", resp)
	}
	if resp := checkOver(t, conn, "/admin", tok); codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied {
		t.Fatalf("rule: %v", resp)
	}
	if resp := checkOver(t, conn, "/orders", ""); codes.Code(resp.GetStatus().GetCode()) != codes.Unauthenticated {
		t.Fatalf("no token: %v", resp)
	}
	hc := healthpb.NewHealthClient(conn)
	await := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "envoy.service.auth.v3.Authorization"})
			if err == nil && resp.GetStatus() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("health %v %v, want %v", resp, err, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	await(healthpb.HealthCheckResponse_SERVING)
	cancel() // SIGTERM: the drain starts
	await(healthpb.HealthCheckResponse_NOT_SERVING)
	if resp := checkOver(t, conn, "/orders", tok); codes.Code(resp.GetStatus().GetCode()) != codes.OK {
		t.Fatalf("Check while draining: %v", resp)
	}
	close(stopNow) // a second SIGTERM ends the hour-long drain
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on the second signal")
	}
}

// TestServeGRPCTLS: with grpc.tls_cert_file and grpc.tls_key_file the
// service speaks TLS.
func TestServeGRPCTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	key := sign.MustGenerate(engine.ES256, "k")
	cfg := writeConfig(t, key, "grpc_listen: 127.0.0.1:0\ngrpc:\n  tls_cert_file: "+certFile+"\n  tls_key_file: "+keyFile+"\nlimits:\n  drain_period: 0s\n")
	r := startServe(t, "", "--config", cfg)
	line := r.stderr.await(t, "gRPC ext_authz")
	if !strings.Contains(line, "tls=true") {
		t.Fatalf("log line %q: want tls=true", line)
	}
	addr := regexp.MustCompile(`grpc_listen=(\S+)`).FindStringSubmatch(line)[1]
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if resp := checkOver(t, conn, "/orders", ""); codes.Code(resp.GetStatus().GetCode()) != codes.Unauthenticated {
		t.Fatalf("no token over TLS: %v", resp)
	}
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
}

// TestServeGRPCConfigErrors: bad gRPC settings are configuration errors
// that name the setting.
func TestServeGRPCConfigErrors(t *testing.T) {
	key := sign.MustGenerate(engine.ES256, "k")
	for extra, want := range map[string]string{
		"grpc_listen: nowhere\n":                          "grpc_listen",
		"grpc:\n  tls_cert_file: /nonexistent/cert.pem\n": "grpc.tls_cert_file",
		"grpc:\n  max_recv_bytes: 10\n":                   "grpc.max_recv_bytes",
	} {
		cfg := writeConfig(t, key, extra)
		code, _, stderr := runCmd(t, "", "serve", "--config", cfg, "--check-config")
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("%q: exit %d, stderr %q: want an error naming %s", extra, code, stderr, want)
		}
	}
}

// selfSigned writes a self-signed certificate for localhost and its key.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
