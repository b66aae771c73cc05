package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// watcher is an io.Writer that keeps what is written and reports lines
// matching a pattern on a channel.
type watcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	part  []byte
	lines chan string
}

func newWatcher() *watcher { return &watcher{lines: make(chan string, 100)} }

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		select {
		case w.lines <- string(w.part[:i]):
		default:
		}
		w.part = w.part[i+1:]
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// await returns the first line containing s, failing after 20 s.
func (w *watcher) await(t *testing.T, s string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line := <-w.lines:
			if strings.Contains(line, s) {
				return line
			}
		case <-timeout:
			t.Fatalf("no line with %q; output:\n%s", s, w.String())
		}
	}
}

// running is a serve command running in the background.
type running struct {
	cancel context.CancelFunc
	done   chan int
	stdout *watcher
	stderr *watcher
}

func startServe(t *testing.T, env string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan int, 1), stdout: newWatcher(), stderr: newWatcher()}
	go func() { r.done <- serve(ctx, args, env, r.stdout, r.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(40 * time.Second):
			t.Error("serve did not stop")
		}
	})
	return r
}

func (r *running) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code // for the cleanup
		return code
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop")
		return -1
	}
}

var curlLine = regexp.MustCompile(`^curl -i -H 'Authorization: Bearer ([A-Za-z0-9_.-]+)' (http://\S+/auth)$`)

func TestServeDemoMode(t *testing.T) {
	r := startServe(t, "", "--listen", "127.0.0.1:0")
	line := r.stdout.await(t, "curl")
	m := curlLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("ready line %q is not a runnable curl command", line)
	}
	req, _ := http.NewRequest("GET", m[2], nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Auth-Subject") != "demo-user" {
		t.Fatalf("demo token: %d %v", resp.StatusCode, resp.Header)
	}
	jwks, err := http.Get(strings.TrimSuffix(m[2], "/auth") + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(jwks.Body)
	jwks.Body.Close()
	if jwks.StatusCode != 200 || !strings.Contains(string(body), `"kty":"OKP"`) || strings.Contains(string(body), `"d"`) {
		t.Errorf("jwks %d %s", jwks.StatusCode, body)
	}
	// The token must be long-lived: check its exp through /verify.
	v, err := http.Post(strings.TrimSuffix(m[2], "/auth")+"/verify", "text/plain", strings.NewReader(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	vb, _ := io.ReadAll(v.Body)
	v.Body.Close()
	if !strings.Contains(string(vb), `"valid":true`) {
		t.Errorf("verify: %s", vb)
	}
	if code := r.stop(t); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, r.stderr.String())
	}
}

// writeConfig writes a config file trusting key and returns its path.
func writeConfig(t *testing.T, key *sign.Key, extra string) string {
	t.Helper()
	dir := t.TempDir()
	jwks := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwks, sign.JWKS(key), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "jwtgate.yaml")
	yaml := fmt.Sprintf("listen: 127.0.0.1:0\nissuers:\n  - issuer: https://issuer.example\n    jwks_file: %s\n    audiences: [api]\n%s", jwks, extra)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServeCheckConfig(t *testing.T) {
	key := sign.MustGenerate(engine.HS256, "k1")
	good := writeConfig(t, key, "")
	bad := writeConfig(t, key, "limits:\n  max_token_bytes: 10\nlog:\n  format: xml\n")
	var out, errw bytes.Buffer
	if code := serve(context.Background(), []string{"--check-config", "--config", good}, "", &out, &errw); code != 0 || !strings.Contains(out.String(), "configuration OK") {
		t.Errorf("good config: exit %d, %s %s", code, out.String(), errw.String())
	}
	// The compiled route table is printed, in the order routes are tried.
	routed := writeConfig(t, key, "routes:\n  - name: health\n    path: /healthz\n    access: public\n"+
		"  - name: admin\n    path: /admin/**\n    methods: [GET]\n    require:\n      - claim: realm_access.roles\n        op: contains\n        value: admin\n")
	out.Reset()
	if code := serve(context.Background(), []string{"--check-config", "--config", routed}, "", &out, &errw); code != 0 {
		t.Errorf("routed config: exit %d, %s", code, errw.String())
	}
	table := strings.Split(out.String(), "\n")
	head := -1
	for i, l := range table {
		if strings.Contains(l, "ROUTE") && strings.Contains(l, "REQUIRES") {
			head = i
		}
	}
	if head < 0 || len(table) < head+4 || !strings.Contains(table[head+1], "health") || !strings.Contains(table[head+1], "public") ||
		!strings.Contains(table[head+2], `realm_access.roles contains "admin"`) || !strings.Contains(table[head+2], "/admin/**") || !strings.Contains(table[head+3], "default") {
		t.Errorf("route table:\n%s", out.String())
	}
	out.Reset()
	errw.Reset()
	if code := serve(context.Background(), []string{"--check-config"}, bad, &out, &errw); code != exitUsage {
		t.Errorf("bad config from $JWTGATE_CONFIG: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(errw.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], bad+":7: limits.max_token_bytes") || !strings.Contains(lines[1], bad+":9: log.format") {
		t.Errorf("want one line per problem naming file and line, got:\n%s", errw.String())
	}
	errw.Reset()
	if code := serve(context.Background(), []string{"--check-config", "--jwks-file", "/x.json", "--issuer", "i"}, "", &out, &errw); code != exitUsage || !strings.Contains(errw.String(), "--audience") {
		t.Errorf("flags without --audience: exit %d %s", code, errw.String())
	}
	errw.Reset()
	if code := serve(context.Background(), []string{"--check-config", "--config", filepath.Join(t.TempDir(), "none.yaml")}, "", &out, &errw); code != exitUsage {
		t.Errorf("missing file: exit %d", code)
	}
	errw.Reset()
	if code := serve(context.Background(), []string{"--bogus"}, "", &out, &errw); code != exitUsage || !strings.Contains(errw.String(), "--bogus") {
		t.Errorf("unknown flag: exit %d %s", code, errw.String())
	}
	out.Reset()
	if code := serve(context.Background(), []string{"--help"}, "", &out, &errw); code != 0 || !strings.Contains(out.String(), "--jwks-url") || !strings.Contains(out.String(), "--check-config") {
		t.Errorf("help: exit %d %s", code, out.String())
	}
}

// jwksGate serves a JWKS whose second and later fetches wait for release.
type jwksGate struct {
	mu      sync.Mutex
	fetches int
	first   []byte
	later   []byte
	waiting chan struct{} // closed when a later fetch is waiting
	release chan struct{}
}

func (g *jwksGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.fetches++
	n := g.fetches
	g.mu.Unlock()
	if n == 1 {
		w.Write(g.first)
		return
	}
	if n == 2 {
		close(g.waiting)
	}
	<-g.release
	w.Write(g.later)
}

func TestServeFlagsAndGracefulShutdown(t *testing.T) {
	a := sign.MustGenerate(engine.ES256, "a")
	b := sign.MustGenerate(engine.ES256, "b")
	gate := &jwksGate{first: sign.JWKS(a), later: sign.JWKS(a, b), waiting: make(chan struct{}), release: make(chan struct{})}
	jwks := httptest.NewServer(gate)
	defer jwks.Close()
	defer func() {
		select {
		case <-gate.release:
		default:
			close(gate.release)
		}
	}()

	r := startServe(t, "", "--listen", "127.0.0.1:0", "--jwks-url", jwks.URL, "--issuer", "https://issuer.example", "--audience", "api", "--audience", "other")
	line := r.stderr.await(t, "jwtgate serving")
	addr := regexp.MustCompile(`listen=(\S+)`).FindStringSubmatch(line)[1]
	claims := map[string]any{"iss": "https://issuer.example", "aud": "other", "sub": "bob", "exp": time.Now().Add(time.Hour).Unix()}
	tokA, _ := a.Sign(claims)
	tokB, _ := b.Sign(claims)
	get := func(tok string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/auth", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return http.DefaultClient.Do(req)
	}
	resp, err := get(tokA)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Auth-Subject") != "bob" {
		t.Fatalf("token of the flag-configured issuer: %d", resp.StatusCode)
	}

	// A token with a new kid makes the server refetch the JWKS, which
	// hangs: the request is in flight when the shutdown starts, and must
	// still be answered.
	type result struct {
		status int
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := get(tokB)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		resp.Body.Close()
		inflight <- result{status: resp.StatusCode}
	}()
	select {
	case <-gate.waiting:
	case <-time.After(20 * time.Second):
		t.Fatal("the unknown kid did not trigger a refetch")
	}
	r.cancel()
	r.stderr.await(t, "shutting down")
	close(gate.release)
	select {
	case res := <-inflight:
		if res.err != nil || res.status != 200 {
			t.Errorf("in-flight request during shutdown: %d %v", res.status, res.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("in-flight request not answered")
	}
	if code := r.stop(t); code != 0 {
		t.Errorf("exit %d:\n%s", code, r.stderr.String())
	}
	if _, err := get(tokA); err == nil {
		t.Error("server still answers after shutdown")
	}
}
