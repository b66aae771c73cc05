package extauthz

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/valyala/fasthttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api://gateway"
)

var (
	epoch   = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	testKey = sign.MustGenerate(engine.ES256, "k1")
)

// claims returns a valid access token's claims, changed by mods.
func claims(mods ...func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":   testIssuer,
		"sub":   "alice",
		"aud":   testAudience,
		"iat":   epoch.Unix() - 60,
		"exp":   epoch.Unix() + 3600,
		"scope": "read write",
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func token(tb testing.TB, mods ...func(map[string]any)) string {
	tb.Helper()
	tok, err := testKey.Sign(claims(mods...))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// testConfig is the configuration of the tests: one issuer whose keys are
// inline, and rules under /admin (scope admin) and /reports (GET, scope
// read).
func testConfig() *config.Config {
	return &config.Config{
		Issuers: []config.Issuer{{Issuer: testIssuer, InlineJWKS: sign.JWKS(testKey), Audiences: []string{testAudience}}},
		Rules: []config.Rule{
			{Path: "/admin", Scopes: []string{"admin"}},
			{Path: "/reports", Methods: []string{"GET"}, Scopes: []string{"read"}},
		},
	}
}

// fixture is an HTTP server (not listening: its handler is called) and a
// gRPC service deciding with the same policy and verifier.
type fixture struct {
	http *server.Server
	svc  *Service
	cfg  ServerConfig
}

func newFixture(tb testing.TB, cfg *config.Config, mod func(*ServerConfig)) *fixture {
	tb.Helper()
	return newFixtureLoading(tb, cfg, nil, mod)
}

// newFixtureLoading is newFixture for a server that reloads with load
// (server.Options.Load).
func newFixtureLoading(tb testing.TB, cfg *config.Config, load func() (*config.Config, error), mod func(*ServerConfig)) *fixture {
	tb.Helper()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{Clock: clocktest.New(epoch), Logger: slog.New(slog.DiscardHandler), Load: load})
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	sc := ServerConfig{Config: Config{Generations: srv, Metrics: srv.Metrics()}, Ready: srv.Ready}
	if mod != nil {
		mod(&sc)
	}
	svc, err := NewService(sc.Config)
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{http: srv, svc: svc, cfg: sc}
}

// serve serves f's configuration on a loopback gRPC server until the test
// ends and returns a client connection to it.
func (f *fixture) serve(tb testing.TB) (*Server, *grpc.ClientConn) {
	tb.Helper()
	gs, err := NewServer(f.cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- gs.Serve(ln) }()
	tb.Cleanup(func() {
		gs.Stop()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	conn := dial(tb, ln.Addr().String())
	return gs, conn
}

func dial(tb testing.TB, addr string) *grpc.ClientConn {
	tb.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// httpReq is an original request as the proxy saw it.
type httpReq struct {
	method, host, path string
	headers            map[string]string // lower-case names, as Envoy sends them
}

// checkRequest is what Envoy sends for r: the attributes and the headers,
// pseudo-headers included.
func (r httpReq) checkRequest() *authv3.CheckRequest {
	h := map[string]string{":method": r.method, ":authority": r.host, ":path": r.path}
	for k, v := range r.headers {
		h[k] = v
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: r.method, Host: r.host, Path: r.path, Headers: h, Protocol: "HTTP/1.1"},
	}}}
}

// forwardAuth asks the HTTP server's /auth about r, as nginx or Traefik
// do, and returns the status, the WWW-Authenticate value and the
// response headers.
func (f *fixture) forwardAuth(r httpReq) (int, string, map[string]string) {
	var req fasthttp.Request
	req.Header.SetMethod("GET")
	req.SetRequestURI("/auth")
	req.Header.SetHost("jwtgate")
	req.Header.Set("X-Forwarded-Uri", r.path)
	req.Header.Set("X-Forwarded-Method", r.method)
	req.Header.Set("X-Forwarded-Host", r.host)
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
	f.http.Handler()(&ctx)
	out := map[string]string{}
	for k := range ctx.Response.Header.All() {
		out[strings.ToLower(string(k))] = string(ctx.Response.Header.PeekBytes(k))
	}
	return ctx.Response.StatusCode(), string(ctx.Response.Header.Peek("WWW-Authenticate")), out
}

// answer is a CheckResponse in the terms of an HTTP answer.
type answer struct {
	code     int32             // gRPC status code
	status   int               // HTTP status: 200 for OK
	set      map[string]string // headers set (OK) or sent (denied), lower-case names
	remove   []string
	body     string
	metadata map[string]any
}

func answerOf(tb testing.TB, resp *authv3.CheckResponse) answer {
	tb.Helper()
	a := answer{code: resp.GetStatus().GetCode(), set: map[string]string{}}
	switch hr := resp.GetHttpResponse().(type) {
	case *authv3.CheckResponse_OkResponse:
		a.status = 200
		for _, h := range hr.OkResponse.GetHeaders() {
			if h.GetAppend() == nil || h.GetAppend().GetValue() || h.GetAppendAction().String() != "OVERWRITE_IF_EXISTS_OR_ADD" {
				tb.Errorf("header %s: append %v, append_action %v: want append false, OVERWRITE_IF_EXISTS_OR_ADD", h.GetHeader().GetKey(), h.GetAppend(), h.GetAppendAction())
			}
			a.set[strings.ToLower(h.GetHeader().GetKey())] = h.GetHeader().GetValue()
		}
		a.remove = hr.OkResponse.GetHeadersToRemove()
		if md := resp.GetDynamicMetadata(); md != nil {
			a.metadata = md.AsMap()
		}
	case *authv3.CheckResponse_DeniedResponse:
		a.status = int(hr.DeniedResponse.GetStatus().GetCode())
		for _, h := range hr.DeniedResponse.GetHeaders() {
			a.set[strings.ToLower(h.GetHeader().GetKey())] = h.GetHeader().GetValue()
		}
		a.body = hr.DeniedResponse.GetBody()
	default:
		tb.Fatalf("CheckResponse without an HTTP response: %v", resp)
	}
	return a
}

// readyFlag is a Ready function the test sets.
type readyFlag struct{ atomic.Bool }

func (r *readyFlag) ready() bool { return r.Load() }
