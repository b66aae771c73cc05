package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api://gateway"
	otherIssuer  = "https://other.example"
)

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable clock.
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock { return clocktest.New(epoch) }

// signers caches one key per algorithm and kid prefix: RSA keys take a while
// to generate.
var (
	signersMu sync.Mutex
	signers   = map[string]*sign.Key{}
)

func signer(tb testing.TB, alg engine.Alg, kid string) *sign.Key {
	tb.Helper()
	signersMu.Lock()
	defer signersMu.Unlock()
	if k, ok := signers[kid]; ok {
		return k
	}
	k, err := sign.Generate(alg, kid)
	if err != nil {
		tb.Fatal(err)
	}
	signers[kid] = k
	return k
}

// claims are a realistic access token's claims, valid at epoch.
func claims(mod ...func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":   testIssuer,
		"sub":   "user-1234567890",
		"aud":   testAudience,
		"exp":   epoch.Add(time.Hour).Unix(),
		"iat":   epoch.Add(-time.Minute).Unix(),
		"nbf":   epoch.Add(-time.Minute).Unix(),
		"jti":   "3f1c9b0e-7a2d-4c5e-9f8a-1b2c3d4e5f60",
		"scope": "openid profile read:orders",
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func mustSign(tb testing.TB, k *sign.Key, c map[string]any) string {
	tb.Helper()
	tok, err := k.Sign(c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// fixture is a started server whose one issuer trusts key.
type fixture struct {
	key   *sign.Key
	clock *fakeClock
	srv   *server.Server
	h     fasthttp.RequestHandler
	dir   string
}

// jwksFile writes the JWKS of keys to a temporary file.
func jwksFile(tb testing.TB, dir string, name string, keys ...*sign.Key) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, sign.JWKS(keys...), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// newFixture starts a server trusting a key of alg for testIssuer and
// testAudience; extra is YAML appended to the configuration.
func newFixture(tb testing.TB, alg engine.Alg, extra string) *fixture {
	tb.Helper()
	f := &fixture{key: signer(tb, alg, "k-"+alg.String()), clock: newFakeClock(), dir: tb.TempDir()}
	path := jwksFile(tb, f.dir, "jwks.json", f.key)
	yaml := "issuers:\n  - issuer: " + testIssuer + "\n    jwks_file: " + path + "\n    audiences: [\"" + testAudience + "\"]\n" + extra
	f.start(tb, yaml)
	return f
}

func (f *fixture) start(tb testing.TB, yaml string) {
	tb.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		tb.Fatalf("config: %v\n%s", err, yaml)
	}
	f.srv, err = server.New(cfg, server.Options{Clock: f.clock, Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.srv.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.srv.Close)
	f.h = f.srv.Handler()
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (f *fixture) token(tb testing.TB, mod ...func(map[string]any)) string {
	return mustSign(tb, f.key, claims(mod...))
}

// response is what a handler answered.
type response struct {
	status  int
	headers map[string][]string
	body    string
}

func (r *response) header(name string) string {
	if v := r.headers[textproto.CanonicalMIMEHeaderKey(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// call runs one request through h. headers are "Name: value" lines.
func call(h fasthttp.RequestHandler, method, uri string, body string, headers ...string) *response {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	for _, line := range headers {
		name, value, _ := strings.Cut(line, ":")
		ctx.Request.Header.Add(name, strings.TrimSpace(value))
	}
	if body != "" {
		ctx.Request.SetBodyString(body)
	}
	h(&ctx)
	r := &response{status: ctx.Response.StatusCode(), headers: map[string][]string{}, body: string(ctx.Response.Body())}
	for k, v := range ctx.Response.Header.All() {
		name := textproto.CanonicalMIMEHeaderKey(string(k))
		r.headers[name] = append(r.headers[name], string(v))
	}
	return r
}

func (f *fixture) auth(tb testing.TB, tok string, headers ...string) *response {
	tb.Helper()
	return call(f.h, "GET", "/auth", "", append([]string{"Authorization: Bearer " + tok}, headers...)...)
}

// demoFixture is a server in demo mode and its token.
type demoFixture struct {
	fixture
	tok string
}

func newDemoFixture(tb testing.TB) (*demoFixture, error) {
	k, err := sign.Generate(engine.EdDSA, "demo-EdDSA")
	if err != nil {
		return nil, err
	}
	const issuer, audience = "http://127.0.0.1:8080", "jwtgate-demo"
	cfg := config.Config{Issuers: []config.Issuer{{
		Issuer: issuer, InlineJWKS: sign.JWKS(k), Audiences: []string{audience}, Algorithms: []engine.Alg{engine.EdDSA},
	}}}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &demoFixture{fixture: fixture{clock: newFakeClock()}}
	f.srv, err = server.New(&cfg, server.Options{Clock: f.clock, Logger: quietLogger(), PublishJWKS: sign.JWKS(k)})
	if err != nil {
		return nil, err
	}
	if err := f.srv.Start(context.Background()); err != nil {
		return nil, err
	}
	tb.Cleanup(f.srv.Close)
	f.h = f.srv.Handler()
	now := f.clock.Now()
	f.tok, err = k.Sign(map[string]any{"iss": issuer, "sub": "demo-user", "aud": audience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(), "scope": "demo read"})
	return f, err
}

// serve runs f's server on a loopback listener until the test ends and
// returns its address.
func (f *fixture) serve(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Run(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		f.srv.Stop() // no drain period: the test is over
		<-done
	})
	return ln.Addr().String()
}
