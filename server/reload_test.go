package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// reloadFixture is a started server whose configuration is a file that
// Reload reads again.
type reloadFixture struct {
	fixture
	cfgPath string
}

// write writes a file of the fixture's directory; {{dir}} in data is the
// directory.
func (f *reloadFixture) write(tb testing.TB, name, data string) string {
	tb.Helper()
	path := filepath.Join(f.dir, name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(data, "{{dir}}", f.dir)), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func (f *reloadFixture) writeJWKS(tb testing.TB, name string, keys ...*sign.Key) {
	tb.Helper()
	jwksFile(tb, f.dir, name, keys...)
}

func (f *reloadFixture) reload(tb testing.TB) {
	tb.Helper()
	if err := f.srv.Reload(context.Background()); err != nil {
		tb.Fatalf("Reload: %v", err)
	}
}

// metric returns the value of the sample named exactly series on /metrics.
func (f *reloadFixture) metric(tb testing.TB, series string) float64 {
	tb.Helper()
	page := call(f.h, "GET", "/metrics", "").body
	sc := bufio.NewScanner(strings.NewReader(page))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatalf("no %s on /metrics:\n%s", series, page)
	return 0
}

func (f *reloadFixture) expect(tb testing.TB, tok string, status int) *response {
	tb.Helper()
	r := f.auth(tb, tok)
	if r.status != status {
		tb.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

const reloadYAML = `issuers:
  - issuer: ` + testIssuer + `
    jwks_file: {{dir}}/keys.json
    audiences: ["` + testAudience + `"]
`

// TestReloadReplacedKeyFile checks that a reload reads a replaced key file:
// the new kid is accepted, and the removed one refused, including a token
// of it that the cache holds.
func TestReloadReplacedKeyFile(t *testing.T) {
	oldKey, newKey := signer(t, engine.ES256, "reload-old"), signer(t, engine.ES256, "reload-new")
	dir := t.TempDir()
	f := &reloadFixture{fixture: fixture{dir: dir}}
	f.writeJWKS(t, "keys.json", oldKey)
	f = newReloadFixtureIn(t, dir, reloadYAML)
	f.reload(t) // nothing changed

	oldTok, newTok := mustSign(t, oldKey, claims()), mustSign(t, newKey, claims())
	f.expect(t, oldTok, 200)
	f.expect(t, oldTok, 200) // a cache hit
	f.expect(t, newTok, 401)

	f.writeJWKS(t, "keys.json", newKey)
	f.reload(t)
	f.expect(t, newTok, 200)
	r := f.expect(t, oldTok, 401)
	if !strings.Contains(r.header("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("removed key: challenge %q", r.header("WWW-Authenticate"))
	}
	if got := f.srv.Generation(); got != 3 {
		t.Errorf("generation %d, want 3", got)
	}
	if got := f.metric(t, `jwtgate_config_generation`); got != 3 {
		t.Errorf("jwtgate_config_generation %v, want 3", got)
	}
	if got := f.metric(t, `jwtgate_config_reloads_total{result="success"}`); got != 2 {
		t.Errorf("successful reloads %v, want 2", got)
	}
}

// TestReloadInvalidChangesNothing checks that an invalid configuration, an
// unreadable key file and a broken second key file each leave the serving
// configuration as it was, are counted as failures, and say what to fix:
// the configuration's file and line, the key file's path.
func TestReloadInvalidChangesNothing(t *testing.T) {
	k1, k2, k3 := signer(t, engine.ES256, "inv-1"), signer(t, engine.ES256, "inv-2"), signer(t, engine.ES256, "inv-3")
	two := `issuers:
  - issuer: ` + testIssuer + `
    jwks_file: {{dir}}/a.json
    audiences: ["` + testAudience + `"]
  - issuer: ` + otherIssuer + `
    jwks_file: {{dir}}/b.json
    audiences: ["` + testAudience + `"]
`
	f := &reloadFixture{fixture: fixture{dir: t.TempDir()}}
	f.writeJWKS(t, "a.json", k1)
	f.writeJWKS(t, "b.json", k2)
	f = newReloadFixtureIn(t, f.dir, two)
	tok1, tok3 := mustSign(t, k1, claims()), mustSign(t, k3, claims())
	f.expect(t, tok1, 200)

	cases := []struct {
		name    string
		prepare func()
		want    any // *server.ConfigError or *server.KeySourceError
		says    string
	}{
		{"wrong type", func() {
			f.write(t, "jwtgate.yaml", two+"limits:\n  max_token_bytes: lots\n")
		}, &server.ConfigError{}, f.cfgPath + ":9: limits.max_token_bytes"},
		{"invalid setting", func() {
			f.write(t, "jwtgate.yaml", strings.Replace(two, `audiences: ["`+testAudience+`"]`, "audiences: []", 1))
		}, &server.ConfigError{}, f.cfgPath + ":4: issuers[0].audiences"},
		{"missing key file", func() {
			f.write(t, "jwtgate.yaml", strings.Replace(two, "a.json", "gone.json", 1))
		}, &server.KeySourceError{}, "gone.json"},
		{"second key file broken", func() {
			f.write(t, "jwtgate.yaml", two)
			f.writeJWKS(t, "a.json", k3) // would be swapped first
			f.write(t, "b.json", `{"keys": [`)
		}, &server.KeySourceError{}, "b.json"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.prepare()
			err := f.srv.Reload(context.Background())
			if err == nil {
				t.Fatal("Reload succeeded")
			}
			switch c.want.(type) {
			case *server.ConfigError:
				var ce *server.ConfigError
				if !errors.As(err, &ce) {
					t.Errorf("error %T, want *server.ConfigError: %v", err, err)
				}
			case *server.KeySourceError:
				var ke *server.KeySourceError
				if !errors.As(err, &ke) {
					t.Errorf("error %T, want *server.KeySourceError: %v", err, err)
				}
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error does not say %q: %v", c.says, err)
			}
			f.expect(t, tok1, 200)
			f.expect(t, tok3, 401)
			if got := f.srv.Generation(); got != 1 {
				t.Errorf("generation %d after a failed reload", got)
			}
			if got := f.metric(t, `jwtgate_config_reloads_total{result="failure"}`); got != float64(i+1) {
				t.Errorf("failed reloads %v, want %d", got, i+1)
			}
		})
	}
	// Fixed: the reload goes through.
	f.writeJWKS(t, "b.json", k2)
	f.reload(t)
	f.expect(t, tok3, 200)
	f.expect(t, tok1, 401)
}

// newReloadFixtureIn is newReloadFixture in an existing directory.
func newReloadFixtureIn(tb testing.TB, dir, yaml string) *reloadFixture {
	tb.Helper()
	f := &reloadFixture{fixture: fixture{clock: newFakeClock(), dir: dir}}
	f.cfgPath = filepath.Join(dir, "jwtgate.yaml")
	f.write(tb, "jwtgate.yaml", yaml)
	cfg, err := config.Load(f.cfgPath)
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	f.srv, err = server.New(cfg, server.Options{Clock: f.clock, Logger: quietLogger(),
		Load: func() (*config.Config, error) { return config.Load(f.cfgPath) }})
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.srv.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.srv.Close)
	f.h = f.srv.Handler()
	return f
}

// TestReloadTokenCache checks which reloads keep the verified-token cache:
// one that changes nothing the cached results depend on keeps it (the next
// request is a hit); one that changes the issuer's policy, the identity
// headers or the key source starts an empty cache, and the new settings
// apply to tokens verified before.
func TestReloadTokenCache(t *testing.T) {
	key := signer(t, engine.ES256, "cache-1")
	dir := t.TempDir()
	f := &reloadFixture{fixture: fixture{dir: dir}}
	f.writeJWKS(t, "keys.json", key)
	f.writeJWKS(t, "copy.json", key)
	f = newReloadFixtureIn(t, dir, reloadYAML)
	tok := mustSign(t, key, claims())
	// One cache serves every issuer: its families have no issuer label.
	entries := `jwtgate_token_cache_entries`
	hits := `jwtgate_token_cache_hits_total`
	f.expect(t, tok, 200)
	if got := f.metric(t, entries); got != 1 {
		t.Fatalf("cache entries %v after the first request, want 1", got)
	}

	twoAuds := strings.Replace(reloadYAML, `["`+testAudience+`"]`, `["`+testAudience+`", "api://other"]`, 1)
	identity := twoAuds + "identity:\n  headers:\n    - header: X-User\n      claim: sub\n"
	steps := []struct {
		name string
		yaml string
		kept bool
	}{
		{"unchanged", reloadYAML, true},
		{"log setting", reloadYAML + "log:\n  requests: false\n", true},
		{"audience added", twoAuds, false},
		{"same again", twoAuds, true},
		{"identity header", identity, false},
		{"same identity", identity, true},
		{"key source", strings.Replace(identity, "keys.json", "copy.json", 1), false},
		{"route", strings.Replace(identity, "keys.json", "copy.json", 1) + routeYAML("user-"), false},
		{"same route", strings.Replace(identity, "keys.json", "copy.json", 1) + routeYAML("user-"), true},
	}
	for _, s := range steps {
		f.write(t, "jwtgate.yaml", s.yaml)
		f.reload(t)
		before := f.metric(t, hits)
		r := f.expect(t, tok, 200)
		hit := f.metric(t, hits) > before
		if hit != s.kept {
			t.Errorf("%s: cache hit %v, want %v (kept)", s.name, hit, s.kept)
		}
		if strings.Contains(s.yaml, "X-User") && r.header("X-User") != "user-1234567890" {
			t.Errorf("%s: X-User %q: the cached answer of the previous identity headers was served", s.name, r.header("X-User"))
		}
	}
	// A route whose condition the token fails: the outcome kept with the
	// cached token for the route before is not served.
	f.write(t, "jwtgate.yaml", strings.Replace(identity, "keys.json", "copy.json", 1)+routeYAML("admin-"))
	f.reload(t)
	f.expect(t, tok, 403)
}

// routeYAML is a route table whose one route wants sub to start with prefix.
func routeYAML(prefix string) string {
	return "routes:\n  - name: all\n    require:\n      - claim: sub\n        op: prefix\n        value: " + prefix + "\n"
}

// TestReloadUnderLoad reloads several times, alternating a reload that
// keeps the key store with one that replaces it, while keep-alive clients
// send /auth requests with valid tokens: every request gets 200.
func TestReloadUnderLoad(t *testing.T) {
	key := signer(t, engine.ES256, "load-1")
	dir := t.TempDir()
	f := &reloadFixture{fixture: fixture{dir: dir}}
	f.writeJWKS(t, "keys.json", key)
	f.writeJWKS(t, "copy.json", key)
	f = newReloadFixtureIn(t, dir, reloadYAML)
	addr := f.serve(t)
	toks := make([]string, 8)
	for i := range toks {
		toks[i] = mustSign(t, key, claims(func(c map[string]any) { c["jti"] = fmt.Sprint("load-", i) }))
	}

	const clients, reloads = 4, 8
	var sent, failed atomic.Int64
	var failures sync.Map
	stop := make(chan struct{})
	started := make(chan struct{}, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &fasthttp.HostClient{Addr: addr, MaxConns: 1, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
			defer hc.CloseIdleConnections()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for n := 0; ; n++ {
				if n == 20 {
					started <- struct{}{}
				}
				select {
				case <-stop:
					if n > 20 {
						return
					}
				default:
				}
				req.Reset()
				req.SetRequestURI("http://" + addr + "/auth")
				req.Header.Set("Authorization", "Bearer "+toks[(c+n)%len(toks)])
				err := hc.Do(req, resp)
				sent.Add(1)
				if err != nil || resp.StatusCode() != 200 {
					failed.Add(1)
					failures.Store(fmt.Sprint(err, resp.StatusCode(), string(resp.Body())), true)
				}
			}
		}()
	}
	for range clients {
		<-started
	}
	for i := range reloads {
		yaml := reloadYAML
		if i%2 == 0 {
			yaml = strings.Replace(yaml, "keys.json", "copy.json", 1) // a new key store
		}
		f.write(t, "jwtgate.yaml", yaml)
		f.reload(t)
		// Let the clients send a few requests on the new generation.
		for target := sent.Load() + clients*5; sent.Load() < target; {
			time.Sleep(time.Millisecond)
		}
	}
	close(stop)
	wg.Wait()
	failures.Range(func(k, _ any) bool { t.Errorf("failed request: %v", k); return true })
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during %d reloads", failed.Load(), sent.Load(), reloads)
	}
	if got := f.srv.Generation(); got != reloads+1 {
		t.Errorf("generation %d, want %d", got, reloads+1)
	}
	t.Logf("%d requests, %d reloads, none failed", sent.Load(), reloads)
}

var sampleRE = regexp.MustCompile(`^jwtgate_config_`)

// TestReloadMetricsDeclared checks the reload families' HELP and TYPE.
func TestReloadMetricsDeclared(t *testing.T) {
	f := newFixture(t, engine.ES256, "")
	page := call(f.h, "GET", "/metrics", "").body
	for _, want := range []string{
		"# TYPE jwtgate_config_reloads_total counter",
		"# TYPE jwtgate_config_generation gauge",
		`jwtgate_config_reloads_total{result="failure"} 0`,
		"jwtgate_config_generation 1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q on /metrics", want)
		}
	}
	var n int
	for _, line := range strings.Split(page, "\n") {
		if sampleRE.MatchString(line) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d jwtgate_config_ samples, want 3", n)
	}
	if err := f.srv.Reload(context.Background()); !errors.Is(err, server.ErrNoLoader) {
		t.Errorf("Reload without Options.Load: %v", err)
	}
}

// TestReloadUnfetchableKeysRefused checks that a reload to a key source that
// leaves the issuer without keys (a JWKS URL nothing answers) is refused
// while the serving configuration has keys, and that Reload after Close
// fails.
func TestReloadUnfetchableKeysRefused(t *testing.T) {
	key := signer(t, engine.ES256, "unfetchable-1")
	dir := t.TempDir()
	f := &reloadFixture{fixture: fixture{dir: dir}}
	f.writeJWKS(t, "keys.json", key)
	f = newReloadFixtureIn(t, dir, reloadYAML)
	tok := mustSign(t, key, claims())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	f.write(t, "jwtgate.yaml", strings.Replace(reloadYAML, "jwks_file: {{dir}}/keys.json", "jwks_url: http://"+closed+"/jwks", 1))
	err = f.srv.Reload(context.Background())
	var ke *server.KeySourceError
	if !errors.As(err, &ke) || !strings.Contains(err.Error(), "issuer "+testIssuer) {
		t.Fatalf("Reload to an unreachable key set: %v, want a *server.KeySourceError naming the issuer", err)
	}
	f.expect(t, tok, 200)
	if !f.srv.Ready() || f.srv.Generation() != 1 {
		t.Errorf("ready %v, generation %d after the refused reload", f.srv.Ready(), f.srv.Generation())
	}
	f.srv.Close()
	if err := f.srv.Reload(context.Background()); !errors.Is(err, server.ErrServerClosed) {
		t.Errorf("Reload after Close: %v", err)
	}
}
