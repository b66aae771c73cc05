package extauthz

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server/config"
)

// reloading is a configuration the test changes between reloads: Load
// returns what next builds.
type reloading struct {
	next atomic.Pointer[func() *config.Config]
}

func (r *reloading) set(build func() *config.Config) { r.next.Store(&build) }

func (r *reloading) load() (*config.Config, error) { return (*r.next.Load())(), nil }

// writeKeys writes the JWKS of keys to dir/name and returns its path.
func writeKeys(tb testing.TB, dir, name string, keys ...*sign.Key) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, sign.JWKS(keys...), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// check asks client about r.
func check(tb testing.TB, client authv3.AuthorizationClient, r httpReq) answer {
	tb.Helper()
	resp, err := client.Check(context.Background(), r.checkRequest())
	if err != nil {
		tb.Fatalf("Check %s %s: %v", r.method, r.path, err)
	}
	return answerOf(tb, resp)
}

// TestReloadRoutes: a reload that changes the routes, the realm or the
// dynamic metadata settings changes the next Check's answer, over a
// connection opened before it.
func TestReloadRoutes(t *testing.T) {
	var r reloading
	before := func() *config.Config {
		cfg := testConfig() // /admin needs scope admin
		cfg.Realm = "before"
		return cfg
	}
	after := func() *config.Config {
		cfg := testConfig()
		cfg.Realm = "after"
		cfg.Rules = []config.Rule{{Path: "/orders", Scopes: []string{"admin"}}} // /admin free, /orders needs admin
		cfg.GRPC.PayloadInMetadata = true
		return cfg
	}
	r.set(before)
	f := newFixtureLoading(t, before(), r.load, nil)
	_, conn := f.serve(t)
	client := authv3.NewAuthorizationClient(conn)
	bearer := map[string]string{"authorization": "Bearer " + token(t)} // scope "read write"
	admin := httpReq{"GET", "api.example", "/admin/users", bearer}
	orders := httpReq{"GET", "api.example", "/orders", bearer}
	anonymous := httpReq{"GET", "api.example", "/orders", nil}

	if a := check(t, client, admin); a.status != 403 {
		t.Fatalf("before the reload: /admin answered %d, want 403", a.status)
	}
	if a := check(t, client, orders); a.status != 200 || a.metadata != nil {
		t.Fatalf("before the reload: /orders answered %d with metadata %v, want 200 without", a.status, a.metadata)
	}
	if a := check(t, client, anonymous); !strings.Contains(a.set["www-authenticate"], `realm="before"`) {
		t.Fatalf("before the reload: challenge %q", a.set["www-authenticate"])
	}

	r.set(after)
	if err := f.http.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := check(t, client, admin); a.status != 200 {
		t.Errorf("after the reload: /admin answered %d (%s), want 200: the route was removed", a.status, a.body)
	}
	a := check(t, client, orders)
	if a.status != 403 || !strings.Contains(a.set["www-authenticate"], `scope="admin"`) {
		t.Errorf("after the reload: /orders answered %d, challenge %q: want 403 for scope admin", a.status, a.set["www-authenticate"])
	}
	if a := check(t, client, anonymous); !strings.Contains(a.set["www-authenticate"], `realm="after"`) {
		t.Errorf("after the reload: challenge %q, want realm \"after\"", a.set["www-authenticate"])
	}
	admin.path = "/admin"
	if a := check(t, client, admin); a.metadata["jwt_payload"] == nil {
		t.Errorf("after the reload (grpc.payload_in_metadata on): metadata %v", a.metadata)
	}

	// And back: the generation before is not remembered in its place.
	r.set(before)
	if err := f.http.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := check(t, client, admin); a.status != 403 {
		t.Errorf("after the second reload: /admin answered %d, want 403", a.status)
	}
}

// keyFileConfig is testConfig with the issuer's keys in the file path.
func keyFileConfig(path string) *config.Config {
	cfg := testConfig()
	cfg.Issuers[0].InlineJWKS, cfg.Issuers[0].JWKSFile = nil, path
	return cfg
}

// TestReloadReplacedKeyStore: a reload to another key file starts a new
// key store and closes the old one; Check verifies with the new store at
// once: the new key's tokens are allowed, the old key's refused as
// unknown, never as keys unavailable (the closed store).
func TestReloadReplacedKeyStore(t *testing.T) {
	oldKey, newKey := sign.MustGenerate(engine.ES256, "old"), sign.MustGenerate(engine.ES256, "new")
	dir := t.TempDir()
	oldPath, newPath := writeKeys(t, dir, "old.json", oldKey), writeKeys(t, dir, "new.json", newKey)
	var r reloading
	r.set(func() *config.Config { return keyFileConfig(oldPath) })
	f := newFixtureLoading(t, keyFileConfig(oldPath), r.load, nil)
	_, conn := f.serve(t)
	client := authv3.NewAuthorizationClient(conn)
	signed := func(k *sign.Key) httpReq {
		tok, err := k.Sign(claims())
		if err != nil {
			t.Fatal(err)
		}
		return httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + tok}}
	}
	oldReq, newReq := signed(oldKey), signed(newKey)
	if a := check(t, client, oldReq); a.status != 200 {
		t.Fatalf("old key before the reload: %d %s", a.status, a.body)
	}

	r.set(func() *config.Config { return keyFileConfig(newPath) })
	if err := f.http.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := check(t, client, newReq); a.status != 200 {
		t.Errorf("new key after the reload: %d %s, want 200", a.status, a.body)
	}
	a := check(t, client, oldReq)
	if a.code != int32(codes.Unauthenticated) || !strings.Contains(a.body, `"reason":"unknown_kid"`) {
		t.Errorf("old key after the reload: %d %s, want 401 unknown_kid", a.status, a.body)
	}
}

// TestReloadUnderLoad: Checks on several connections while the keys are
// rotated reload after reload, each reload starting a new key store (a new
// key file that adds a key) and changing the realm, are all answered OK:
// every call signs a fresh token with the newest key whose reload has
// returned, which the configuration serving the call has.
func TestReloadUnderLoad(t *testing.T) {
	const workers, reloads = 8, 12
	dir := t.TempDir()
	keys := make([]*sign.Key, reloads+1)
	paths := make([]string, reloads+1)
	for i := range keys {
		keys[i] = sign.MustGenerate(engine.ES256, fmt.Sprint("rot-", i))
		paths[i] = writeKeys(t, dir, fmt.Sprint("keys-", i, ".json"), keys[:i+1]...)
	}
	var r reloading
	f := newFixtureLoading(t, keyFileConfig(paths[0]), r.load, nil)
	_, conn := f.serve(t)
	_, conn2 := f.serve(t)

	var (
		wg       sync.WaitGroup
		current  atomic.Int64 // index of the newest key served
		done     atomic.Bool
		calls    atomic.Int64
		failures atomic.Int64
		first    atomic.Value
	)
	for w := range workers {
		client := authv3.NewAuthorizationClient(conn)
		if w%2 == 1 {
			client = authv3.NewAuthorizationClient(conn2)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !done.Load(); i++ {
				// A token of its own for each call: the key store is asked
				// for its key, not only the token cache.
				k := keys[current.Load()]
				tok, err := k.Sign(claims(func(c map[string]any) { c["jti"] = fmt.Sprint(w, "-", i) }))
				if err != nil {
					failures.Add(1)
					first.CompareAndSwap(nil, err.Error())
					return
				}
				req := httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + tok}}.checkRequest()
				resp, err := client.Check(context.Background(), req)
				calls.Add(1)
				if err != nil || resp.GetStatus().GetCode() != int32(codes.OK) {
					failures.Add(1)
					first.CompareAndSwap(nil, fmt.Sprintf("key %s: %v %v", k.Kid, resp, err))
				}
			}
		}()
	}
	// Each reload waits for Checks on the generation before it.
	settle := func() {
		for n := calls.Load(); calls.Load() < n+int64(workers); {
			runtime.Gosched()
		}
	}
	for i := 1; i <= reloads; i++ {
		settle()
		path, realm := paths[i], fmt.Sprint("realm-", i)
		r.set(func() *config.Config {
			cfg := keyFileConfig(path)
			cfg.Realm = realm
			return cfg
		})
		if err := f.http.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		current.Store(int64(i))
	}
	settle()
	done.Store(true)
	wg.Wait()
	if got := f.http.Generation(); got != reloads+1 {
		t.Errorf("generation %d, want %d", got, reloads+1)
	}
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d Checks failed during %d reloads; the first: %v", n, calls.Load(), reloads, first.Load())
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRunDrainPeriodFollowsReload: Run drains for the drain period of the
// configuration serving when the shutdown starts, as the HTTP server does:
// a reload from no drain period to an hour keeps the service answering new
// connections, unready, after its context ends.
func TestRunDrainPeriodFollowsReload(t *testing.T) {
	var r reloading
	withDrain := func(d time.Duration) func() *config.Config {
		return func() *config.Config {
			cfg := testConfig()
			cfg.Limits.DrainPeriod = &d
			return cfg
		}
	}
	r.set(withDrain(0))
	f := newFixtureLoading(t, withDrain(0)(), r.load, func(sc *ServerConfig) { sc.ReadyInterval = time.Millisecond })
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
	hc := healthpb.NewHealthClient(dial(t, ln.Addr().String()))
	waitHealth(t, hc, ServiceName, healthpb.HealthCheckResponse_SERVING)

	r.set(withDrain(time.Hour))
	if err := f.http.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	waitHealth(t, hc, ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	// Draining: a call on a new connection is still answered.
	client := authv3.NewAuthorizationClient(dial(t, ln.Addr().String()))
	if a := check(t, client, httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + token(t)}}); a.status != 200 {
		t.Fatalf("Check while draining: %d %s", a.status, a.body)
	}
	select {
	case err := <-ran:
		t.Fatalf("Run returned during the drain period of the reloaded configuration: %v", err)
	default:
	}
	gs.Stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestConfigOneSource: a Service decides with the generations of a
// server.Server or with a fixed policy and verifier, never both or
// neither; with generations, the drain settings come from them too.
func TestConfigOneSource(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	g := f.http.Acquire()
	defer g.Release()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"neither", Config{}},
		{"policy without verifier", Config{Policy: g.Policy()}},
		{"both", Config{Generations: f.http, Policy: g.Policy(), Verifier: g.Verifier()}},
		{"generations and a realm", Config{Generations: f.http, Realm: "r"}},
		{"generations and metadata", Config{Generations: f.http, PayloadInMetadata: true}},
	} {
		if _, err := NewService(tc.cfg); err != ErrConfig {
			t.Errorf("%s: NewService error %v, want ErrConfig", tc.name, err)
		}
	}
	if _, err := NewService(Config{Policy: g.Policy(), Verifier: g.Verifier()}); err != nil {
		t.Errorf("fixed policy and verifier: %v", err)
	}
	for _, sc := range []ServerConfig{
		{Config: Config{Generations: f.http}, DrainPeriod: time.Second},
		{Config: Config{Generations: f.http}, ShutdownTimeout: time.Second},
	} {
		if _, err := NewServer(sc); err == nil || !strings.Contains(err.Error(), "limits.drain_period") {
			t.Errorf("generations with drain period %s, shutdown timeout %s: error %v, want one naming limits.drain_period", sc.DrainPeriod, sc.ShutdownTimeout, err)
		}
	}
}
