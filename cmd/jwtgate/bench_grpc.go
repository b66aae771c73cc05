package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/loadgen"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
	"github.com/jwtgate/jwtgate/server/extauthz"
)

const benchGRPCAbout = `
Compares jwtgate's two forward-auth front ends on the same tokens and
machine: HTTP /auth (fasthttp, as nginx, Caddy and Traefik call it) and the
gRPC ext_authz Check (as Envoy and Istio call it). It starts jwtgate in this
process on loopback, serving both, once with the verified-token cache and
once without, and drives each front end in turn with --concurrency workers
sending requests back to back for --duration (after an unrecorded --warmup),
each with one of --distinct valid tokens (expect 200 / OK).

HTTP workers have a connection each; gRPC workers share --conns connections
(HTTP/2 streams), the way Envoy multiplexes its ext_authz calls. Every
answer is checked: a Check that is not OK, or a /auth answer that is not
200, counts as unexpected.

It prints requests/s and latency percentiles side by side, each with its
requests/s as a share of HTTP /auth's with the cache. The load generator
shares the machine with the server: compare the ratios, not the absolute
figures, between machines. The Check handler's own cost (allocations and
time, without the transport) is measured by
'go test ./server/extauthz -run ^$ -bench Check -benchmem'.`

func runBenchGRPC(args []string, stdout, stderr io.Writer) int {
	f := newFlags("bench grpc", "[--concurrency N] [--conns N] [--duration D] [--warmup D] [--distinct N] [--alg ALG]", benchGRPCAbout, stderr)
	concurrency := f.Int("concurrency", 64, "`N` concurrent workers per front end")
	conns := f.Int("conns", 4, "`N` gRPC connections the workers share")
	duration := f.Duration("duration", 5*time.Second, "measured run time per front end and cache setting")
	warmup := f.Duration("warmup", time.Second, "unrecorded load before each measurement")
	distinct := f.Int("distinct", 1000, "distinct valid tokens, sent in turn")
	algName := f.String("alg", "ES256", "signing algorithm of the tokens: "+algNames())
	pos, code, stop := f.parse(args, stdout)
	if stop {
		return code
	}
	switch {
	case len(pos) > 0:
		return f.usageErr("unexpected argument %q", pos[0])
	case *concurrency < 1 || *concurrency > loadgen.MaxConcurrency:
		return f.usageErr("--concurrency must be 1 to %d, got %d", loadgen.MaxConcurrency, *concurrency)
	case *conns < 1 || *conns > *concurrency:
		return f.usageErr("--conns must be 1 to --concurrency (%d), got %d", *concurrency, *conns)
	case *duration <= 0:
		return f.usageErr("--duration must be positive, got %v", *duration)
	case *warmup < 0:
		return f.usageErr("--warmup must not be negative, got %v", *warmup)
	case *distinct < 1 || *distinct > 1000000:
		return f.usageErr("--distinct must be 1 to 1000000, got %d", *distinct)
	}
	alg, ok := engine.ParseAlg(*algName)
	if !ok {
		return f.usageErr("--alg: unknown algorithm %q; one of %s", *algName, algNames())
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stopSignals()
	g := grpcBench{concurrency: *concurrency, conns: *conns, duration: *duration, warmup: *warmup, distinct: *distinct, alg: alg, stderr: stderr}
	results, err := g.run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate bench grpc: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s\n\n", commandLine(append([]string{"jwtgate", "bench", "grpc"}, args...)))
	if err := loadgen.WriteComparison(stdout, results...); err != nil {
		fmt.Fprintf(stderr, "jwtgate bench grpc: %v\n", err)
		return exitFailure
	}
	for _, r := range results {
		if r.Errors > 0 || r.Unexpected > 0 {
			fmt.Fprintf(stderr, "jwtgate bench grpc: %s: %d errors, %d unexpected answers\n", r.Name, r.Errors, r.Unexpected)
			return exitFailure
		}
	}
	return exitOK
}

// grpcBench is one bench grpc run.
type grpcBench struct {
	concurrency, conns, distinct int
	duration, warmup             time.Duration
	alg                          engine.Alg
	stderr                       io.Writer
}

// benchGRPCIssuer is the issuer of the tokens of bench grpc (whose
// audience is benchAudience).
const benchGRPCIssuer = "https://bench.jwtgate.invalid"

// run measures HTTP /auth and gRPC Check, with the cache and without.
func (g *grpcBench) run(ctx context.Context) ([]*loadgen.Result, error) {
	key, err := sign.Generate(g.alg, "bench")
	if err != nil {
		return nil, err
	}
	tokens := make([][]byte, g.distinct)
	now := time.Now()
	for i := range tokens {
		tok, err := key.Sign(map[string]any{"iss": benchGRPCIssuer, "aud": benchAudience, "sub": fmt.Sprintf("bench-user-%d", i),
			"scope": "read write", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		if err != nil {
			return nil, err
		}
		tokens[i] = []byte(tok)
	}
	var results []*loadgen.Result
	for _, cache := range []bool{true, false} {
		suffix := " (cache)"
		if !cache {
			suffix = " (no cache)"
		}
		t, err := startBothFrontEnds(ctx, key, cache)
		if err != nil {
			return nil, err
		}
		lc := loadgen.Config{
			Name: "http /auth" + suffix, URL: t.httpURL, Concurrency: g.concurrency,
			Duration: g.duration, Warmup: g.warmup,
			Mix: []loadgen.Class{{Name: "valid", Weight: 1, Tokens: tokens}},
		}
		fmt.Fprintf(g.stderr, "measuring %s\n", lc.Name)
		hr, err := loadgen.Run(ctx, lc)
		if err == nil {
			results = append(results, hr)
			lc.Name, lc.URL = "grpc Check"+suffix, "grpc://"+t.grpcAddr
			lc.Send, err = t.sender(g.conns)
			if err == nil {
				fmt.Fprintf(g.stderr, "measuring %s\n", lc.Name)
				var gr *loadgen.Result
				if gr, err = loadgen.Run(ctx, lc); err == nil {
					results = append(results, gr)
				}
			}
		}
		if cerr := t.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// frontEnds is jwtgate serving HTTP and gRPC on loopback.
type frontEnds struct {
	http     *server.Server
	grpc     *extauthz.Server
	httpURL  string
	grpcAddr string
	done     chan error
	clients  []*grpc.ClientConn
}

// startBothFrontEnds starts jwtgate for one issuer trusting key, with the
// token cache or without, serving /auth and Check.
func startBothFrontEnds(ctx context.Context, key *sign.Key, cache bool) (*frontEnds, error) {
	cfg := &config.Config{
		Listen:  "127.0.0.1:0",
		Issuers: []config.Issuer{{Issuer: benchGRPCIssuer, InlineJWKS: sign.JWKS(key), Audiences: []string{benchAudience}}},
		Log:     config.Log{Level: "warn"},
	}
	if !cache {
		zero := 0
		cfg.Cache.Entries = &zero
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	srv, err := server.New(cfg, server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		srv.Close()
		return nil, err
	}
	gs, err := extauthz.NewServer(extauthz.ServerConfig{Config: extauthz.Config{Generations: srv, Metrics: srv.Metrics()}})
	if err != nil {
		srv.Close()
		return nil, err
	}
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, err
	}
	gln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		hln.Close()
		srv.Close()
		return nil, err
	}
	t := &frontEnds{http: srv, grpc: gs, httpURL: "http://" + hln.Addr().String() + "/auth", grpcAddr: gln.Addr().String(), done: make(chan error, 2)}
	go func() { t.done <- srv.Serve(hln) }()
	go func() { t.done <- gs.Serve(gln) }()
	return t, nil
}

// sender returns a loadgen Send that calls Check over n connections, the
// workers spread over them.
func (t *frontEnds) sender(n int) (func(int, []byte) (int, error), error) {
	clients := make([]authv3.AuthorizationClient, n)
	for i := range clients {
		conn, err := grpc.NewClient(t.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		t.clients = append(t.clients, conn)
		clients[i] = authv3.NewAuthorizationClient(conn)
	}
	return func(worker int, tok []byte) (int, error) {
		h := map[string]string{":method": "GET", ":path": "/orders", ":authority": "api.example"}
		if tok != nil {
			h["authorization"] = "Bearer " + string(tok)
		}
		ctx, cancel := context.WithTimeout(context.Background(), loadgen.DefaultTimeout)
		defer cancel()
		resp, err := clients[worker%n].Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
			Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/orders", Host: "api.example", Headers: h}},
		}})
		if err != nil {
			return 0, err
		}
		switch codes.Code(resp.GetStatus().GetCode()) {
		case codes.OK:
			return 200, nil
		case codes.Unauthenticated:
			return 401, nil
		case codes.PermissionDenied:
			return 403, nil
		}
		return 500, nil
	}, nil
}

// close stops both front ends.
func (t *frontEnds) close() error {
	for _, c := range t.clients {
		c.Close()
	}
	t.grpc.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := t.http.Shutdown(sctx)
	for range 2 {
		if serr := <-t.done; serr != nil && !errors.Is(serr, net.ErrClosed) && err == nil {
			err = serr
		}
	}
	t.http.Close()
	return err
}
