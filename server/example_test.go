package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// exampleVerifier returns a verifier trusting a fresh key of an issuer's
// JWKS, and a token that key signed.
func exampleVerifier() (*engine.Verifier, string) {
	key := sign.MustGenerate(engine.EdDSA, "key-1")
	store, err := keystore.New(keystore.Options{Logger: slog.New(slog.DiscardHandler)}, keystore.Issuer{
		Issuer: "https://login.example.com",
		JWKS:   sign.JWKS(key), // in production: JWKSURL or Discovery
	})
	if err != nil {
		panic(err)
	}
	if err := store.Start(context.Background()); err != nil {
		panic(err)
	}
	v, err := engine.New(engine.Config{
		Keys:      store,
		Issuers:   []string{"https://login.example.com"},
		Audiences: []string{"orders-api"},
	})
	if err != nil {
		panic(err)
	}
	tok, err := key.Sign(map[string]any{
		"iss": "https://login.example.com", "sub": "alice", "aud": "orders-api",
		"exp": time.Now().Add(time.Hour).Unix(), "scope": "orders:read",
	})
	if err != nil {
		panic(err)
	}
	return v, tok
}

// A net/http service that only sees requests with a valid token.
func ExampleMiddleware_HTTP() {
	v, tok := exampleVerifier()
	mw := &server.Middleware{Verifier: v, StripHeaders: []string{"X-User"}}
	orders := mw.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := server.TokenFromContext(r.Context())
		fmt.Fprintf(w, "orders of %s (scope %q)", t.Claims.Subject, t.Claims.Scope)
	}))
	srv := httptest.NewServer(orders)
	defer srv.Close()

	for _, auth := range []string{"Bearer " + tok, "Bearer not.a.token", ""} {
		req, _ := http.NewRequest("GET", srv.URL+"/orders", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			fmt.Println(resp.StatusCode, string(body))
		} else {
			fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// Output:
	// 200 orders of alice (scope "orders:read")
	// 401 Bearer realm="jwtgate", error="invalid_token", error_description="token header is not strict base64url (no padding, whitespace or foreign characters)"
	// 401 Bearer realm="jwtgate"
}

// A fasthttp service that only sees requests with a valid token.
func ExampleMiddleware_FastHTTP() {
	v, tok := exampleVerifier()
	mw := &server.Middleware{Verifier: v}
	handler := mw.FastHTTP(func(ctx *fasthttp.RequestCtx) {
		t := server.TokenFromRequestCtx(ctx)
		fmt.Fprintf(ctx, "hello %s", t.Claims.Subject)
	})
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: handler}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	defer srv.Shutdown()
	client := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}

	for _, auth := range []string{"Bearer " + tok, "Basic YWxpY2U6cHc="} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://api.internal/hello")
		req.Header.Set("Authorization", auth)
		if err := client.Do(req, resp); err != nil {
			panic(err)
		}
		fmt.Println(resp.StatusCode(), string(resp.Body()))
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
	// Output:
	// 200 hello alice
	// 401 {"reason":"no_token","description":"the request carries no token"}
}

// A server with one issuer whose JWKS is given inline, answering /auth in
// memory.
func ExampleServer() {
	key, err := sign.Generate(engine.EdDSA, "k1")
	if err != nil {
		panic(err)
	}
	cfg := config.Config{Issuers: []config.Issuer{{
		Issuer: "https://issuer.example", InlineJWKS: sign.JWKS(key), Audiences: []string{"api://orders"},
	}}}
	srv, err := server.New(&cfg, server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	if err := srv.Start(context.Background()); err != nil {
		panic(err)
	}
	now := time.Now()
	tok, _ := key.Sign(map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": "api://orders",
		"exp": now.Add(time.Hour).Unix(), "scope": "demo read"})

	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/auth")
	ctx.Request.Header.Set("Authorization", "Bearer "+tok)
	ctx.Request.Header.Set("X-Auth-Subject", "mallory") // never trusted
	srv.Handler()(&ctx)
	fmt.Println(ctx.Response.StatusCode(), string(ctx.Response.Header.Peek("X-Auth-Subject")), string(ctx.Response.Header.Peek("X-Auth-Scope")))
	// Output: 200 alice demo read
}
