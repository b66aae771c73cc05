package jwtgatecaddy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// readmeCaddyfiles returns the ```caddyfile blocks of the project's
// README.md, in order: one issuer; routes; the configuration file.
func readmeCaddyfiles(t testing.TB) []string {
	t.Helper()
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```caddyfile":
			cur = new(strings.Builder)
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
			cur.WriteByte('\n')
		}
	}
	if len(blocks) != 3 {
		t.Fatalf("README.md has %d caddyfile blocks, want 3 (one issuer, routes, configuration file)", len(blocks))
	}
	return blocks
}

// TestReadmeCaddyfilesAdapt checks that every Caddyfile of the README
// adapts with the built Caddy, to a route that runs the jwtgate handler.
func TestReadmeCaddyfilesAdapt(t *testing.T) {
	for i, cf := range readmeCaddyfiles(t) {
		out, err := adapt(t, cf)
		if err != nil {
			t.Errorf("README caddyfile block %d: %v\n%s", i, err, cf)
			continue
		}
		if !bytes.Contains(out, []byte(`"handler":"jwtgate"`)) {
			t.Errorf("README caddyfile block %d adapts without the jwtgate handler:\n%s", i, out)
		}
	}
}

// gateway is a built Caddy running the README's Caddyfiles in front of a
// recording upstream, its keys from a loopback JWKS server.
type gateway struct {
	caddy    *caddyProc
	jwks     *jwksServer
	up       string // upstream host:port
	routes   string // base URL of the README's routes example
	file     string // base URL of the configuration-file example
	template string // the Caddyfile with the placeholders of rendered
	yamlPath string
	client   *http.Client
}

// render fills the README's example hosts and URLs in with the test's.
func (g *gateway) render(cf string) string {
	return strings.NewReplacer(
		"https://id.example.com/.well-known/jwks.json", g.jwks.URL,
		"localhost:9000", g.up,
		"/etc/jwtgate/jwtgate.yaml", g.yamlPath,
	).Replace(cf)
}

// startGateway runs the README's routes example and configuration-file
// example, on two loopback ports of one Caddy.
func startGateway(t *testing.T, keys ...*signer) *gateway {
	g := &gateway{jwks: newJWKSServer(t, keys...), client: &http.Client{Timeout: 10 * time.Second}}
	up := newUpstream(t)
	g.up = strings.TrimPrefix(up.URL, "http://")
	g.yamlPath = filepath.Join(t.TempDir(), "jwtgate.yaml")
	yaml := fmt.Sprintf(`issuers:
  - issuer: %s
    jwks_url: %s
    audiences: [api]
rules:
  - path: /write
    scopes: [write]
`, testIssuer, g.jwks.URL)
	if err := os.WriteFile(g.yamlPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	blocks := readmeCaddyfiles(t)
	routesPort, filePort, adminPort := freePort(t), freePort(t), freePort(t)
	g.routes = fmt.Sprintf("http://127.0.0.1:%d", routesPort)
	g.file = fmt.Sprintf("http://127.0.0.1:%d", filePort)
	global := fmt.Sprintf("{\n\tadmin 127.0.0.1:%d\n\tauto_https off\n}\n", adminPort)
	g.template = global +
		strings.Replace(blocks[1], "api.example.com", g.routes, 1) +
		strings.Replace(blocks[2], "api.example.com", g.file, 1)
	g.caddy = startCaddy(t, g.render(g.template), fmt.Sprintf("127.0.0.1:%d", adminPort), g.routes+"/public/ready")
	return g
}

// answer is what a request through the gateway got.
type answer struct {
	status    int
	challenge string
	upstream  http.Header // the headers the upstream got (200 only)
}

func (g *gateway) do(t testing.TB, url, token string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header[k] = []string{v} // as spelled
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, challenge: resp.Header.Get("Www-Authenticate")}
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &a.upstream); err != nil {
			t.Fatalf("%s: the upstream's answer: %v: %s", url, err, body)
		}
	}
	return a
}

// TestCaddyModule runs the README's examples in a built Caddy: valid,
// invalid, expired and missing tokens, a role-gated and a public route,
// identity headers and claim placeholders reaching the upstream, client
// copies and look-alikes of them not, a configuration file's rules.
func TestCaddyModule(t *testing.T) {
	key, other := newSigner(t, "k1"), newSigner(t, "k1")
	g := startGateway(t, key)
	valid := key.token(t, map[string]any{"email": "alice@example.com", "scope": "read"})
	admin := key.token(t, map[string]any{"roles": []string{"user", "admin"}})
	expired := key.token(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	forged := other.token(t, nil)
	otherAud := key.token(t, map[string]any{"aud": "billing"})
	writer := key.token(t, map[string]any{"scope": "read write"})

	cases := []struct {
		name, url, token string
		status           int
		challenge        string // a substring of WWW-Authenticate; "" for none
	}{
		{"valid", g.routes + "/orders", valid, 200, ""},
		{"no token", g.routes + "/orders", "", 401, `Bearer realm="jwtgate"`},
		{"bad signature", g.routes + "/orders", forged, 401, `error="invalid_token"`},
		{"expired", g.routes + "/orders", expired, 401, `error="invalid_token", error_description="token has expired`},
		{"garbage", g.routes + "/orders", "not.a.jwt", 401, `error="invalid_token"`},
		{"other audience", g.routes + "/orders", otherAud, 401, `error="invalid_token"`},
		{"public, no token", g.routes + "/public/doc", "", 200, ""},
		{"public, bad token", g.routes + "/public/doc", forged, 200, ""},
		{"admin, no role", g.routes + "/admin/users", valid, 403, `error="insufficient_scope"`},
		{"admin, no token", g.routes + "/admin/users", "", 401, `Bearer realm="jwtgate"`},
		{"admin, role", g.routes + "/admin/users", admin, 200, ""},
		{"file, valid", g.file + "/orders", valid, 200, ""},
		{"file, rule scope missing", g.file + "/write/x", valid, 403, `scope="write"`},
		{"file, rule scope", g.file + "/write/x", writer, 200, ""},
		{"file, expired", g.file + "/orders", expired, 401, `error="invalid_token"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := g.do(t, c.url, c.token, nil)
			if a.status != c.status {
				t.Fatalf("status %d, want %d (challenge %q)", a.status, c.status, a.challenge)
			}
			if c.challenge == "" && a.challenge != "" {
				t.Errorf("WWW-Authenticate %q on a %d", a.challenge, a.status)
			}
			if !strings.Contains(a.challenge, c.challenge) {
				t.Errorf("WWW-Authenticate %q, want it to contain %q", a.challenge, c.challenge)
			}
			if c.challenge == `Bearer realm="jwtgate"` && a.challenge != c.challenge {
				t.Errorf("WWW-Authenticate %q for no token, want exactly %q", a.challenge, c.challenge)
			}
		})
	}

	t.Run("identity", func(t *testing.T) {
		spoof := map[string]string{"X-Auth-Subject": "evil", "X-Auth-Issuer": "evil", "X-Auth-Scope": "evil",
			"X-User-Email": "evil"}
		for _, name := range lookAlikes {
			spoof[name] = "evil"
		}
		a := g.do(t, g.routes+"/orders", valid, spoof)
		if a.status != 200 {
			t.Fatalf("status %d", a.status)
		}
		want := map[string]string{"X-Auth-Subject": "alice", "X-Auth-Issuer": testIssuer, "X-Auth-Scope": "read",
			"X-User-Email": "alice@example.com"}
		for k, v := range want {
			if got := a.upstream[k]; len(got) != 1 || got[0] != v {
				t.Errorf("upstream got %s: %q, want %q", k, got, v)
			}
		}
		for k, v := range a.upstream {
			for _, s := range v {
				if s == "evil" {
					t.Errorf("upstream got the client's %s: %q", k, s)
				}
			}
		}
	})
	t.Run("identity, claim absent", func(t *testing.T) {
		// A token without scope: the client's X-Auth-Scope is removed,
		// not passed on.
		a := g.do(t, g.routes+"/orders", admin, map[string]string{"X-Auth-Scope": "evil"})
		if a.status != 200 {
			t.Fatalf("status %d", a.status)
		}
		if got, ok := a.upstream["X-Auth-Scope"]; ok {
			t.Errorf("upstream got X-Auth-Scope %q for a token without scope", got)
		}
	})
}

// lookAlikes are spellings of the identity headers that Go's HTTP server
// passes on as headers of their own and that CGI, WSGI, PHP and
// nginx-variable backends read as the identity header itself (every
// character but a letter or a digit becomes "_"): the list of
// integration/'s tests of Caddy's forward_auth.
var lookAlikes = []string{
	"X_Auth_Subject", "X.Auth.Subject", "X~Auth~Subject", "X-Auth_Subject", "x_auth_subject",
	"X!Auth!Subject", "X+Auth+Subject", "X|Auth|Subject", "X^Auth^Subject", "X`Auth`Subject",
	"X'Auth'Subject", "X#Auth#Subject", "X$Auth$Subject", "X%Auth%Subject", "X&Auth&Subject", "X*Auth*Subject",
	"X_Auth_Issuer", "X.Auth.Scope",
}

// TestCaddyModuleKeyRotation rotates the issuer's key: a token of the new
// key passes once the JWKS serves it (one refetch on its unknown kid), and
// after the next refetch tokens of the retired key no longer do.
func TestCaddyModuleKeyRotation(t *testing.T) {
	oldKey, newKey := newSigner(t, "old"), newSigner(t, "new")
	g := startGateway(t, oldKey)
	oldTok, newTok := oldKey.token(t, nil), newKey.token(t, nil)
	if a := g.do(t, g.routes+"/orders", oldTok, nil); a.status != 200 {
		t.Fatalf("old key before rotation: %d", a.status)
	}
	g.jwks.set(t, newKey)
	// The first token of the new kid makes one refetch. Poll, bounded, in
	// case the request raced the JWKS change.
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := g.do(t, g.routes+"/orders", newTok, nil)
		if a.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token of the new key still gets %d (%s) after the JWKS served it", a.status, a.challenge)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The refetch brought the new set without the old key.
	if a := g.do(t, g.routes+"/orders", key2tok(t, oldKey), nil); a.status != 401 {
		t.Errorf("a token of the retired key gets %d, want 401", a.status)
	}
}

// key2tok signs a fresh token (not in the verified-token cache).
func key2tok(t testing.TB, k *signer) string {
	return k.token(t, map[string]any{"jti": fmt.Sprint(time.Now().UnixNano())})
}

// TestCaddyModuleReload reloads the configuration through the admin API
// (POST /load, a changed Caddyfile) while clients send valid tokens: no
// request fails, and the change takes effect.
func TestCaddyModuleReload(t *testing.T) {
	key := newSigner(t, "k1")
	g := startGateway(t, key)
	valid := key.token(t, nil)
	aud2 := key.token(t, map[string]any{"aud": "api2"})
	if a := g.do(t, g.routes+"/orders", aud2, nil); a.status != 401 {
		t.Fatalf("audience api2 before the reload: %d, want 401", a.status)
	}
	fetchesBefore := g.jwks.fetches.Load()

	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		sent     atomic.Int64
		failures atomic.Int64
		firstErr atomic.Value
	)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req, _ := http.NewRequest("GET", g.routes+"/orders", nil)
				req.Header.Set("Authorization", "Bearer "+valid)
				resp, err := g.client.Do(req)
				sent.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d", resp.StatusCode))
				}
			}
		}()
	}
	// Wait for traffic, then reload three times: the routes example with
	// a second audience (a new verifier), then back, then again.
	for sent.Load() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	changed := strings.Replace(g.template, "audience api\n", "audience api api2\n", 1)
	for i, cf := range []string{changed, g.template, changed} {
		before := sent.Load()
		g.caddy.load(t, g.render(cf))
		for sent.Load() < before+20 {
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("reload %d done; %d requests so far", i+1, sent.Load())
	}
	stop.Store(true)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d valid requests failed during the reloads; first: %v", n, sent.Load(), firstErr.Load())
	}
	if a := g.do(t, g.routes+"/orders", aud2, nil); a.status != 200 {
		t.Errorf("audience api2 after the reload: %d, want 200", a.status)
	}
	// Every handler's issuer has one key source, whose key store the
	// configuration-file site holds through every reload; the changed
	// audience builds a verifier of its own on that store: no reload
	// fetched the key set again.
	if n := g.jwks.fetches.Load() - fetchesBefore; n != 0 {
		t.Errorf("%d JWKS fetches during the reloads, want 0 (one key store per key source, kept across reloads)", n)
	}
}
