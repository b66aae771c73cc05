package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// TestExampleConfigBuildsServer: the repository's example configuration
// builds a server (New does no I/O; its remote key sources would be fetched
// by Start).
func TestExampleConfigBuildsServer(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "examples", "jwtgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

// TestRequestLogs: per-request logs are off by default and one line per
// request with log.requests, never carrying the token.
func TestRequestLogs(t *testing.T) {
	for _, on := range []bool{false, true} {
		var buf bytes.Buffer
		f := &fixture{key: signer(t, engine.HS256, "k-HS256"), clock: newFakeClock(), dir: t.TempDir()}
		yaml := "issuers:\n  - issuer: " + testIssuer + "\n    jwks_file: " + jwksFile(t, f.dir, "j.json", f.key) + "\n    audiences: [" + testAudience + "]\n"
		if on {
			yaml += "log:\n  requests: true\n"
		}
		cfg, err := config.Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(cfg, server.Options{Clock: f.clock, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		tok := f.token(t)
		buf.Reset()
		call(srv.Handler(), "GET", "/auth", "", "Authorization: Bearer "+tok)
		call(srv.Handler(), "GET", "/auth", "", "Authorization: Bearer "+tok+"x")
		lines := strings.Count(buf.String(), "\n")
		if on && lines != 2 || !on && lines != 0 {
			t.Errorf("requests=%v: %d log lines:\n%s", on, lines, buf.String())
		}
		if strings.Contains(buf.String(), tok[:20]) {
			t.Error("token in the request log")
		}
	}
}

// TestKeySetMixingSecretsAndPublicKeysIsRefused: an issuer's key set that
// holds both an HMAC secret and a public key is refused whatever its
// source: an inline set fails New, a key file fails Start, each naming why
// and the fix. The same keys as two issuers serve both kinds of token.
func TestKeySetMixingSecretsAndPublicKeysIsRefused(t *testing.T) {
	hs, rs := signer(t, engine.HS256, "k-HS256"), signer(t, engine.RS256, "k-RS256")
	why := []string{"key set mixes symmetric secrets and asymmetric public keys", "kty oct", "kty RSA", "separate issuers", testIssuer}

	cfg, err := config.Decode([]byte("issuers:\n  - issuer: " + testIssuer + "\n    audiences: [" + testAudience + "]\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Issuers[0].InlineJWKS = sign.JWKS(hs, rs)
	srv, err := server.New(cfg, server.Options{Clock: newFakeClock(), Logger: quietLogger()})
	if srv != nil {
		srv.Close()
		t.Fatal("inline: New accepted a mixed key set")
	}
	if !errors.Is(err, keystore.ErrMixedSymmetry) || !errors.Is(err, keystore.ErrConfig) {
		t.Fatalf("inline: %v", err)
	}
	mustContainAll(t, err.Error(), why...)

	dir := t.TempDir()
	path := jwksFile(t, dir, "mixed.json", rs, hs)
	cfg, err = config.Parse([]byte("issuers:\n  - issuer: " + testIssuer + "\n    jwks_file: " + path + "\n    audiences: [" + testAudience + "]\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err = server.New(cfg, server.Options{Clock: newFakeClock(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	err = srv.Start(context.Background())
	if !errors.Is(err, keystore.ErrMixedSymmetry) || !errors.Is(err, keystore.ErrConfig) {
		t.Fatalf("jwks_file: Start: %v", err)
	}
	mustContainAll(t, err.Error(), append(why, path)...)
	if srv.Ready() {
		t.Fatal("jwks_file: ready with a refused key set")
	}

	f := &fixture{key: rs, clock: newFakeClock(), dir: dir}
	f.start(t, "issuers:\n  - issuer: "+testIssuer+"\n    jwks_file: "+jwksFile(t, dir, "rs.json", rs)+"\n    audiences: ["+testAudience+"]\n"+
		"  - issuer: "+otherIssuer+"\n    jwks_file: "+jwksFile(t, dir, "hs.json", hs)+"\n    audiences: ["+testAudience+"]\n")
	otherIss := func(c map[string]any) { c["iss"] = otherIssuer }
	for _, c := range []struct {
		name   string
		tok    string
		status int
	}{
		{"RS256 of its issuer", mustSign(t, rs, claims()), 200},
		{"HS256 of its issuer", mustSign(t, hs, claims(otherIss)), 200},
		{"HS256 claiming the public keys' issuer", mustSign(t, hs, claims()), 401},
		{"RS256 claiming the secret's issuer", mustSign(t, rs, claims(otherIss)), 401},
	} {
		if r := f.auth(t, c.tok); r.status != c.status {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
}

// mustContainAll fails t for each of subs that s lacks.
func mustContainAll(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q does not contain %q", s, sub)
		}
	}
}
