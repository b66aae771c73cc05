package extauthz

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/valyala/fasthttp"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
)

// waitHealth waits (up to a bound that only a broken server reaches) until
// the health service reports want for service.
func waitHealth(t *testing.T, client healthpb.HealthClient, service string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last healthpb.HealthCheckResponse_ServingStatus
	for time.Now().Before(deadline) {
		resp, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("health Check(%q): %v", service, err)
		}
		if last = resp.GetStatus(); last == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("health of %q is %v, want %v", service, last, want)
}

// TestHealthTransitions: NOT_SERVING before the keys are ready, SERVING
// once they are, NOT_SERVING for good once draining starts.
func TestHealthTransitions(t *testing.T) {
	var ready readyFlag
	draining := make(chan struct{})
	f := newFixture(t, testConfig(), func(sc *ServerConfig) {
		sc.Ready, sc.Draining, sc.ReadyInterval = ready.ready, draining, time.Millisecond
	})
	_, conn := f.serve(t)
	hc := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", ServiceName} {
		waitHealth(t, hc, svc, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	ready.Store(true)
	for _, svc := range []string{"", ServiceName} {
		waitHealth(t, hc, svc, healthpb.HealthCheckResponse_SERVING)
	}
	close(draining)
	for _, svc := range []string{"", ServiceName} {
		waitHealth(t, hc, svc, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	// Still answering Check while draining.
	r := httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + token(t)}}
	resp, err := authv3.NewAuthorizationClient(conn).Check(context.Background(), r.checkRequest())
	if err != nil || resp.GetStatus().GetCode() != int32(codes.OK) {
		t.Fatalf("Check while draining: %v %v", resp, err)
	}
}

// TestHealthFollowsHTTPServer: with the HTTP server's Ready and
// DrainStarted, the health service goes NOT_SERVING when the HTTP server
// drains.
func TestHealthFollowsHTTPServer(t *testing.T) {
	var f *fixture
	f = newFixture(t, testConfig(), func(sc *ServerConfig) { sc.ReadyInterval = time.Millisecond })
	f.cfg.Draining = f.http.DrainStarted()
	_, conn := f.serve(t)
	hc := healthpb.NewHealthClient(conn)
	waitHealth(t, hc, ServiceName, healthpb.HealthCheckResponse_SERVING)
	f.http.Drain()
	waitHealth(t, hc, ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	waitHealth(t, hc, "", healthpb.HealthCheckResponse_NOT_SERVING)
}

// TestOversizedRequest: a CheckRequest over MaxRecvBytes is refused with
// RESOURCE_EXHAUSTED, and the server keeps answering.
func TestOversizedRequest(t *testing.T) {
	f := newFixture(t, testConfig(), func(sc *ServerConfig) { sc.MaxRecvBytes = 4 << 10 })
	_, conn := f.serve(t)
	client := authv3.NewAuthorizationClient(conn)
	r := httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + token(t), "x-big": strings.Repeat("a", 8<<10)}}
	_, err := client.Check(context.Background(), r.checkRequest())
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized Check: %v, want RESOURCE_EXHAUSTED", err)
	}
	delete(r.headers, "x-big")
	resp, err := client.Check(context.Background(), r.checkRequest())
	if err != nil || resp.GetStatus().GetCode() != int32(codes.OK) {
		t.Fatalf("Check after the oversized one: %v %v", resp, err)
	}
}

// countingVerifier counts the verifications running at once.
type countingVerifier struct {
	authz.Verifier
	now, max atomic.Int64
	gate     chan struct{} // each Verify waits for a token from it
}

func (v *countingVerifier) Verify(tok []byte, st *authz.State) (string, error) {
	n := v.now.Add(1)
	for {
		m := v.max.Load()
		if n <= m || v.max.CompareAndSwap(m, n) {
			break
		}
	}
	<-v.gate
	defer v.now.Add(-1)
	return v.Verifier.Verify(tok, st)
}

func (v *countingVerifier) Keeps(t *engine.Token) bool { return false }

// gated makes f.cfg decide with the configuration serving now, fixed, its
// verifier wrapped in a countingVerifier that waits for gate.
func (f *fixture) gated(tb testing.TB, gate chan struct{}) *countingVerifier {
	g := f.http.Acquire()
	tb.Cleanup(g.Release)
	cv := &countingVerifier{Verifier: g.Verifier(), gate: gate}
	f.cfg.Generations, f.cfg.Policy, f.cfg.Verifier, f.cfg.Realm = nil, g.Policy(), cv, g.Config().Realm
	return cv
}

// TestManyConcurrentStreams: thousands of concurrent calls on one
// connection are served at most MaxConcurrentStreams at a time, every one
// answered, and the server stays up.
func TestManyConcurrentStreams(t *testing.T) {
	const limit, calls = 8, 3000
	f := newFixture(t, testConfig(), func(sc *ServerConfig) { sc.MaxConcurrentStreams = limit })
	cv := f.gated(t, make(chan struct{}))
	_, conn := f.serve(t)
	client := authv3.NewAuthorizationClient(conn)
	req := httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + token(t)}}.checkRequest()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Check(context.Background(), req)
			if err != nil || resp.GetStatus().GetCode() != int32(codes.OK) {
				failed.Add(1)
			}
		}()
	}
	go func() { // release the verifications one by one
		for range calls {
			cv.gate <- struct{}{}
		}
	}()
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d calls failed", n, calls)
	}
	if m := cv.max.Load(); m > limit || m < 1 {
		t.Fatalf("%d verifications at once, want at most %d", m, limit)
	}
}

// TestRunDrains: when Run's context ends, health goes NOT_SERVING at once
// while calls are still answered for the drain period; then Run returns,
// having let the call in flight finish.
func TestRunDrains(t *testing.T) {
	gate := make(chan struct{})
	f := newFixture(t, testConfig(), func(sc *ServerConfig) { sc.ReadyInterval, sc.DrainPeriod = time.Millisecond, time.Hour })
	cv := f.gated(t, gate)
	gs, err := NewServer(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- gs.Run(ctx, ln) }()
	conn := dial(t, ln.Addr().String())
	hc := healthpb.NewHealthClient(conn)
	waitHealth(t, hc, ServiceName, healthpb.HealthCheckResponse_SERVING)

	client := authv3.NewAuthorizationClient(conn)
	req := httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + token(t)}}.checkRequest()
	inFlight := make(chan error, 1)
	go func() {
		resp, err := client.Check(context.Background(), req)
		if err == nil && resp.GetStatus().GetCode() != int32(codes.OK) {
			err = errors.New(resp.GetStatus().GetMessage())
		}
		inFlight <- err
	}()
	for cv.now.Load() == 0 { // the call is in Verify
		time.Sleep(time.Millisecond)
	}
	cancel()
	waitHealth(t, hc, ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	// Draining: a new call is still answered.
	second := make(chan error, 1)
	go func() { _, err := client.Check(context.Background(), req); second <- err }()
	gate <- struct{}{}
	gate <- struct{}{}
	if err := <-second; err != nil {
		t.Fatalf("Check while draining: %v", err)
	}
	if err := <-inFlight; err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	select {
	case err := <-ran:
		t.Fatalf("Run returned during the drain period: %v", err)
	default:
	}
	// Stop (a second SIGTERM) cuts the drain period short and ends Run.
	gs.Stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestMetrics: Check calls are counted by outcome and reason on the
// server's /metrics page, with HELP and TYPE.
func TestMetrics(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	for _, r := range []httpReq{
		{"GET", "h", "/orders", map[string]string{"authorization": "Bearer " + token(t)}},
		{"GET", "h", "/orders", nil},
		{"GET", "h", "/admin", map[string]string{"authorization": "Bearer " + token(t)}},
	} {
		if _, err := f.svc.Check(context.Background(), r.checkRequest()); err != nil {
			t.Fatal(err)
		}
	}
	var req fasthttp.Request
	req.SetRequestURI("/metrics")
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
	f.http.Handler()(&ctx)
	page := string(ctx.Response.Body())
	for _, want := range []string{
		"# HELP jwtgate_grpc_requests_total Envoy ext_authz Check calls",
		"# TYPE jwtgate_grpc_requests_total counter",
		`jwtgate_grpc_requests_total{outcome="allow",reason="allowed"} 1`,
		`jwtgate_grpc_requests_total{outcome="deny",reason="no_token"} 1`,
		`jwtgate_grpc_requests_total{outcome="forbid",reason="rule_scope"} 1`,
		`jwtgate_grpc_requests_total{outcome="deny",reason="expired"} 0`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestRunWaitsForCallsInFlight: after the drain period Run stops
// accepting calls but returns only once the call in flight is answered.
func TestRunWaitsForCallsInFlight(t *testing.T) {
	gate := make(chan struct{})
	f := newFixture(t, testConfig(), nil) // no drain period
	cv := f.gated(t, gate)
	gs, err := NewServer(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- gs.Run(ctx, ln) }()
	client := authv3.NewAuthorizationClient(dial(t, ln.Addr().String()))
	req := httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + token(t)}}.checkRequest()
	inFlight := make(chan error, 1)
	go func() {
		resp, err := client.Check(context.Background(), req)
		if err == nil && resp.GetStatus().GetCode() != int32(codes.OK) {
			err = errors.New(resp.GetStatus().GetMessage())
		}
		inFlight <- err
	}()
	for cv.now.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	// Run is waiting for the call: new connections are refused.
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-ran:
		t.Fatalf("Run returned with a call in flight: %v", err)
	default:
	}
	gate <- struct{}{}
	if err := <-inFlight; err != nil {
		t.Fatalf("the call in flight: %v", err)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
