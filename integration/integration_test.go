// Package integration runs jwtgate behind real proxies — nginx
// (auth_request) and Caddy (forward_auth), from the Debian packages — on
// loopback ports, in front of a small upstream that echoes the headers it
// receives. The proxy configurations are testdata/*.snippet, the exact text
// README.md shows.
//
// The tests skip, loudly, only when a proxy binary is missing; CI installs
// both (apt-get install nginx caddy).
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

const (
	issuer   = "https://issuer.example"
	audience = "api://upstream"
)

// requireEnv names the variable CI sets so that a missing proxy fails the
// run instead of skipping: there, these tests must always run.
const requireEnv = "JWTGATE_REQUIRE_INTEGRATION"

// findBinary returns the path of a proxy binary, or skips the test with a
// message that says how to get it (fails it when $JWTGATE_REQUIRE_INTEGRATION
// is set, as CI does).
func findBinary(t *testing.T, name string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range extra {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv(requireEnv) != "" {
		t.Fatalf("%s is not installed, and %s requires the integration tests to run", name, requireEnv)
	}
	msg := fmt.Sprintf("SKIPPING %s INTEGRATION TEST: %s is not installed (apt-get install %s); CI installs it, so this test always runs there", strings.ToUpper(name), name, name)
	t.Log(msg)
	fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
	t.Skip(msg)
	return ""
}

// upstream echoes the headers of each request as JSON and counts requests.
type upstream struct {
	addr  string
	count atomic.Int64
}

func startUpstream(t *testing.T) *upstream {
	u := &upstream{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.count.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.RequestURI(), "headers": r.Header}) //nolint:errcheck
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return u
}

// jwtgate is the auth service, in process, on a loopback port.
type jwtgate struct {
	addr string
	key  *sign.Key
}

func startJWTGate(t *testing.T) *jwtgate {
	dir := t.TempDir()
	key := sign.MustGenerate(engine.ES256, "it-1")
	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, sign.JWKS(key), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
issuers:
  - issuer: %s
    jwks_file: %s
    audiences: [%s]
routes:
  - name: health
    path: /healthz
    access: public
  - name: docs
    path: /docs/**
    access: optional
  - name: reports
    path: /reports/**
    cors_preflight: true
    require:
      - claim: roles
        op: contains
        value: reporter
  - name: admin
    prefix: /admin
    scopes: [admin]
  - name: tenant
    host: "*.tenants.example"
    require:
      - claim: tenant
        op: equals
        value: acme
`, issuer, jwks, audience)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx) //nolint:errcheck
		srv.Close()
	})
	return &jwtgate{addr: ln.Addr().String(), key: key}
}

func (g *jwtgate) token(t *testing.T, sub, scope string, roles ...string) string {
	t.Helper()
	c := map[string]any{"iss": issuer, "aud": audience, "sub": sub, "exp": time.Now().Add(time.Hour).Unix()}
	if scope != "" {
		c["scope"] = scope
	}
	if roles != nil {
		c["roles"] = roles
	}
	tok, err := g.key.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// snippetValues fill the proxy snippets.
type snippetValues struct {
	Listen   string // nginx: listen address; Caddy: site address
	JWTGate  string
	Upstream string
}

// render fills the template file name with v.
func render(t testing.TB, name string, v any) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// startProcess runs a proxy in the foreground until the test ends, and
// waits until addr accepts connections.
func startProcess(t *testing.T, dir, addr string, env []string, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	logf, err := os.Create(filepath.Join(dir, filepath.Base(bin)+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-exited
		}
		logf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s exited before listening (%v):\n%s\n%s", bin, err, out, readErrorLog(dir))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s does not listen on %s:\n%s\n%s", bin, addr, out, readErrorLog(dir))
		}
	}
}

func readErrorLog(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	return string(b)
}

func startNginx(t *testing.T, g *jwtgate, u *upstream) string {
	bin := findBinary(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	addr := freeAddr(t)
	snippet := render(t, "nginx.snippet", snippetValues{Listen: addr, JWTGate: g.addr, Upstream: u.addr})
	conf := render(t, "nginx.conf", map[string]string{"Dir": dir, "Snippet": indent(snippet, "    ")})
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, dir, addr, nil, bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	return "http://" + addr
}

func startCaddy(t *testing.T, g *jwtgate, u *upstream) string {
	bin := findBinary(t, "caddy", "/usr/bin/caddy")
	dir := t.TempDir()
	addr := freeAddr(t)
	snippet := render(t, "Caddyfile.snippet", snippetValues{Listen: "http://" + addr, JWTGate: g.addr, Upstream: u.addr})
	conf := render(t, "Caddyfile", map[string]string{"Dir": dir, "Snippet": snippet})
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	startProcess(t, dir, addr, env, bin, "run", "--config", path, "--adapter", "caddyfile")
	return "http://" + addr
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// echoed is what the upstream saw.
type echoed struct {
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
}

type reply struct {
	status    int
	challenge string
	echo      *echoed
}

// tenantToken is a token of the tenant the host route wants.
func (g *jwtgate) tenantToken(t *testing.T) string {
	t.Helper()
	tok, err := g.key.Sign(map[string]any{"iss": issuer, "aud": audience, "sub": "t-1", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func get(t *testing.T, url string, headers ...string) reply {
	t.Helper()
	return do(t, "GET", url, headers...)
}

func do(t *testing.T, method, url string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(k, "Host") {
			req.Host = strings.TrimSpace(v)
			continue
		}
		req.Header.Add(k, strings.TrimSpace(v))
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := reply{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	if resp.StatusCode == 200 {
		r.echo = &echoed{}
		if err := json.Unmarshal(body, r.echo); err != nil {
			t.Fatalf("upstream body %q: %v", body, err)
		}
	}
	return r
}

// only returns the single value of header h, failing if it came twice.
func (e *echoed) only(t *testing.T, h string) string {
	t.Helper()
	v := e.Headers[h]
	switch len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	}
	t.Errorf("upstream got %s %d times: %q", h, len(v), v)
	return strings.Join(v, ",")
}

// checkProxy runs the scenarios every proxy must pass.
func checkProxy(t *testing.T, base string, g *jwtgate, u *upstream) {
	user := g.token(t, "user-1", "read orders")
	admin := g.token(t, "admin-1", "read admin")
	noScope := g.token(t, "user-2", "")

	t.Run("valid token: upstream gets the identity", func(t *testing.T) {
		r := get(t, base+"/orders/42", "Authorization: Bearer "+user)
		if r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		if s, i, sc := r.echo.only(t, "X-Auth-Subject"), r.echo.only(t, "X-Auth-Issuer"), r.echo.only(t, "X-Auth-Scope"); s != "user-1" || i != issuer || sc != "read orders" {
			t.Errorf("upstream identity: subject %q issuer %q scope %q", s, i, sc)
		}
		if r.echo.Path != "/orders/42" {
			t.Errorf("upstream path %q", r.echo.Path)
		}
	})
	t.Run("forged identity headers never reach the upstream", func(t *testing.T) {
		forged := []string{"X-Auth-Subject: root", "X-Auth-Scope: admin", "X-Auth-Issuer: https://evil.example"}
		r := get(t, base+"/orders", append([]string{"Authorization: Bearer " + noScope}, forged...)...)
		if r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		if s, i, sc := r.echo.only(t, "X-Auth-Subject"), r.echo.only(t, "X-Auth-Issuer"), r.echo.only(t, "X-Auth-Scope"); s != "user-2" || i != issuer || sc != "" {
			t.Errorf("upstream identity: subject %q issuer %q scope %q (the token has no scope)", s, i, sc)
		}
	})
	t.Run("invalid token: 401 with the Bearer challenge", func(t *testing.T) {
		before := u.count.Load()
		for _, tok := range []string{"garbage", user[:len(user)-5] + "AAAAA", g.token(t, "", "")[:20]} {
			r := get(t, base+"/orders", "Authorization: Bearer "+tok, "X-Auth-Subject: root")
			if r.status != 401 || !strings.HasPrefix(r.challenge, `Bearer realm="jwtgate", error="invalid_token", error_description="`) {
				t.Errorf("status %d challenge %q", r.status, r.challenge)
			}
		}
		if n := u.count.Load() - before; n != 0 {
			t.Errorf("upstream called %d times for invalid tokens", n)
		}
	})
	t.Run("no token: 401 without error attributes", func(t *testing.T) {
		before := u.count.Load()
		r := get(t, base+"/orders", "X-Auth-Subject: root")
		if r.status != 401 || r.challenge != `Bearer realm="jwtgate"` {
			t.Errorf("status %d challenge %q", r.status, r.challenge)
		}
		if u.count.Load() != before {
			t.Error("upstream called without a token")
		}
	})
	t.Run("public route: no token needed, no identity", func(t *testing.T) {
		for _, h := range [][]string{nil, {"Authorization: Bearer garbage", "X-Auth-Subject: root"}} {
			r := get(t, base+"/healthz", h...)
			if r.status != 200 || r.echo.only(t, "X-Auth-Subject") != "" {
				t.Errorf("%v: status %d, subject %q", h, r.status, r.echo.only(t, "X-Auth-Subject"))
			}
		}
	})
	t.Run("optional route: identity when a token is sent", func(t *testing.T) {
		r := get(t, base+"/docs/intro", "X-Auth-Subject: root")
		if r.status != 200 || r.echo.only(t, "X-Auth-Subject") != "" {
			t.Errorf("no token: status %d", r.status)
		}
		r = get(t, base+"/docs/intro", "Authorization: Bearer "+user)
		if r.status != 200 || r.echo.only(t, "X-Auth-Subject") != "user-1" {
			t.Errorf("token: status %d", r.status)
		}
		if r := get(t, base+"/docs/intro", "Authorization: Bearer garbage"); r.status != 401 {
			t.Errorf("bad token: status %d", r.status)
		}
	})
	t.Run("role-gated route", func(t *testing.T) {
		reporter := g.token(t, "rep-1", "", "user", "reporter")
		if r := get(t, base+"/reports/q3", "Authorization: Bearer "+reporter); r.status != 200 || r.echo.only(t, "X-Auth-Subject") != "rep-1" {
			t.Errorf("reporter: status %d", r.status)
		}
		before := u.count.Load()
		for _, tok := range []string{user, g.token(t, "u", "", "user")} {
			if r := get(t, base+"/reports/q3", "Authorization: Bearer "+tok); r.status != 403 {
				t.Errorf("without the role: status %d", r.status)
			}
		}
		if u.count.Load() != before {
			t.Error("upstream called for a refused role")
		}
	})
	t.Run("CORS preflight passes without a token", func(t *testing.T) {
		r := do(t, "OPTIONS", base+"/reports/q3", "Origin: https://app.example", "Access-Control-Request-Method: GET")
		if r.status != 200 || r.echo.only(t, "X-Auth-Subject") != "" {
			t.Errorf("preflight: status %d", r.status)
		}
		// Not a preflight: no Access-Control-Request-Method.
		if r := do(t, "OPTIONS", base+"/reports/q3", "Origin: https://app.example"); r.status != 401 {
			t.Errorf("OPTIONS without preflight headers: status %d", r.status)
		}
		// Only where the route allows it.
		if r := do(t, "OPTIONS", base+"/orders", "Origin: https://app.example", "Access-Control-Request-Method: GET"); r.status != 401 {
			t.Errorf("preflight elsewhere: status %d", r.status)
		}
	})
	t.Run("rules see the original path", func(t *testing.T) {
		if r := get(t, base+"/admin/users", "Authorization: Bearer "+user); r.status != 403 {
			t.Errorf("/admin with a user token: %d", r.status)
		}
		if r := get(t, base+"/public/../admin/users", "Authorization: Bearer "+user); r.status != 403 {
			t.Errorf("/public/../admin with a user token: %d", r.status)
		}
		if r := get(t, base+"/admin/users", "Authorization: Bearer "+admin); r.status != 200 || r.echo.only(t, "X-Auth-Subject") != "admin-1" {
			t.Errorf("/admin with an admin token: %d", r.status)
		}
		// A client-sent X-Forwarded-Uri / X-Original-URI cannot move the
		// rule check to another path.
		for _, h := range []string{"X-Forwarded-Uri: /public", "X-Original-URI: /public"} {
			if r := get(t, base+"/admin/users", "Authorization: Bearer "+user, h); r.status != 403 {
				t.Errorf("/admin with %s: %d", h, r.status)
			}
		}
	})
}

func TestNginxAuthRequest(t *testing.T) {
	g, u := startJWTGate(t), startUpstream(t)
	base := startNginx(t, g, u)
	checkProxy(t, base, g, u)
}

// TestNginxHostRoutes: a route on a host sees the host nginx serves, never
// one the client names in X-Forwarded-Host.
func TestNginxHostRoutes(t *testing.T) {
	g, u := startJWTGate(t), startUpstream(t)
	base := startNginx(t, g, u)
	user := g.token(t, "user-1", "read")
	if r := get(t, base+"/orders", "Host: a.tenants.example", "Authorization: Bearer "+user); r.status != 403 {
		t.Errorf("tenant host without the tenant: %d", r.status)
	}
	if r := get(t, base+"/orders", "Host: a.tenants.example", "X-Forwarded-Host: elsewhere.example", "Authorization: Bearer "+user); r.status != 403 {
		t.Errorf("tenant host, client's X-Forwarded-Host: %d", r.status)
	}
	if r := get(t, base+"/orders", "Host: a.tenants.example", "Authorization: Bearer "+g.tenantToken(t)); r.status != 200 {
		t.Errorf("tenant host with the tenant: %d", r.status)
	}
	if r := get(t, base+"/orders", "Authorization: Bearer "+user); r.status != 200 {
		t.Errorf("other host: %d", r.status)
	}
}

func TestCaddyForwardAuth(t *testing.T) {
	g, u := startJWTGate(t), startUpstream(t)
	base := startCaddy(t, g, u)
	checkProxy(t, base, g, u)
}

// TestREADMESnippets keeps the nginx and Caddy snippets of this folder's
// README.md and of the project's README.md identical to the ones these tests
// run.
func TestREADMESnippets(t *testing.T) {
	v := snippetValues{JWTGate: "127.0.0.1:8080", Upstream: "127.0.0.1:9000"}
	v.Listen = "80"
	nginx := render(t, "nginx.snippet", v)
	v.Listen = "example.com"
	caddy := render(t, "Caddyfile.snippet", v)
	for _, path := range []string{"README.md", "../README.md"} {
		readme, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]string{"nginx": nginx, "Caddy": caddy} {
			if !bytes.Contains(readme, []byte(s)) {
				t.Errorf("%s does not contain the %s snippet the tests use:\n%s", path, name, s)
			}
		}
	}
}

// lookAlikes are spellings of the identity headers that Go-based proxies
// pass on as other headers, and that CGI, WSGI, PHP and nginx-variable
// backends read as the identity header itself (HTTP_X_AUTH_SUBJECT): every
// character but a letter or a digit becomes "_".
var lookAlikes = []string{
	"X_Auth_Subject", "X.Auth.Subject", "X~Auth~Subject", "X-Auth_Subject", "x_auth_subject",
	"X!Auth!Subject", "X+Auth+Subject", "X|Auth|Subject", "X^Auth^Subject", "X`Auth`Subject",
	"X'Auth'Subject", "X#Auth#Subject", "X$Auth$Subject", "X%Auth%Subject", "X&Auth&Subject", "X*Auth*Subject",
	"X_Auth_Issuer", "X.Auth.Scope",
}

// cgiName is the variable name a CGI-style backend gives header name.
func cgiName(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	return "HTTP_" + string(b)
}

// checkNoLookAlikes sends a valid token with look-alikes of the identity
// headers and checks that the upstream gets none of them: only jwtgate's
// X-Auth-Subject, X-Auth-Issuer and X-Auth-Scope carry those names.
func checkNoLookAlikes(t *testing.T, base string, g *jwtgate) {
	tok := g.token(t, "alice", "read")
	req, err := http.NewRequest("GET", base+"/orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	for _, name := range lookAlikes {
		req.Header[name] = []string{"mallory"} // exactly as spelled, not canonicalized
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var echo echoed
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatalf("upstream body %q: %v", body, err)
	}
	identity := map[string]string{cgiName("X-Auth-Subject"): "alice", cgiName("X-Auth-Issuer"): issuer, cgiName("X-Auth-Scope"): "read"}
	for name, values := range echo.Headers {
		want, isIdentity := identity[cgiName(name)]
		if !isIdentity {
			continue
		}
		if name != textproto.CanonicalMIMEHeaderKey(name) || strings.ContainsAny(name, "_.") {
			t.Errorf("upstream got the look-alike %q: %q (a CGI backend reads it as %s)", name, values, cgiName(name))
			continue
		}
		if len(values) != 1 || values[0] != want {
			t.Errorf("upstream got %s: %q, want jwtgate's %q only", name, values, want)
		}
	}
	for _, v := range [...]string{"X-Auth-Subject", "X-Auth-Issuer", "X-Auth-Scope"} {
		if len(echo.Headers[v]) != 1 {
			t.Errorf("upstream got %s %q, want jwtgate's", v, echo.Headers[v])
		}
	}
}

func TestNginxDropsLookAlikeHeaders(t *testing.T) {
	g, u := startJWTGate(t), startUpstream(t)
	checkNoLookAlikes(t, startNginx(t, g, u), g)
}

func TestCaddyDropsLookAlikeHeaders(t *testing.T) {
	g, u := startJWTGate(t), startUpstream(t)
	checkNoLookAlikes(t, startCaddy(t, g, u), g)
}
