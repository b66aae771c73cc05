package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// reloadTokens signs a token of each key for writeConfig's issuer.
func reloadTokens(t *testing.T, keys ...*sign.Key) []string {
	t.Helper()
	toks := make([]string, len(keys))
	for i, k := range keys {
		tok, err := k.Sign(map[string]any{"iss": "https://issuer.example", "aud": "api", "sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		toks[i] = tok
	}
	return toks
}

func expectStatus(t *testing.T, addr, tok string, want int) {
	t.Helper()
	if status, err := request(addr, "/auth", tok); err != nil || status != want {
		t.Fatalf("/auth: %d %v, want %d", status, err, want)
	}
}

// TestServeSIGHUP sends real SIGHUPs to jwtgate serve in a child process:
// the first after the key file was replaced (the new kid is accepted, the
// removed one refused), the second after the configuration file was broken
// (the process lives on, the old configuration serves, the log names the
// file and line, /metrics counts the failure).
func TestServeSIGHUP(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGHUP, which Windows cannot send")
	}
	oldKey, newKey := sign.MustGenerate(engine.ES256, "hup-old"), sign.MustGenerate(engine.ES256, "hup-new")
	toks := reloadTokens(t, oldKey, newKey)
	path := writeConfig(t, oldKey, "")
	child := startChild(t, 0, "--config", path, "--drain-period", "0s")
	addr := regexp.MustCompile(`listen=(\S+)`).FindStringSubmatch(child.await(t, "jwtgate serving"))[1]
	expectStatus(t, addr, toks[0], 200)
	expectStatus(t, addr, toks[1], 401)

	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "jwks.json"), sign.JWKS(newKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := child.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	child.await(t, "configuration reloaded")
	expectStatus(t, addr, toks[1], 200)
	expectStatus(t, addr, toks[0], 401)

	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	broken := string(src) + "limits:\n  max_token_bytes: lots\n"
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := child.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line := child.await(t, "reload failed")
	if want := fmt.Sprintf("%s:%d: limits.max_token_bytes", path, strings.Count(broken, "\n")); !strings.Contains(line, want) {
		t.Errorf("reload failure %q does not name %q", line, want)
	}
	child.alive(t)
	expectStatus(t, addr, toks[1], 200)
	page, err := get(addr, "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`jwtgate_config_reloads_total{result="success"} 1`, `jwtgate_config_reloads_total{result="failure"} 1`, "jwtgate_config_generation 2"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q on /metrics", want)
		}
	}
	if code := child.stop(t); code != 0 {
		t.Errorf("exit %d:\n%s", code, child.stderr())
	}
}

// TestServeWatch checks --watch: replacing the key file reloads without a
// signal.
func TestServeWatch(t *testing.T) {
	oldKey, newKey := sign.MustGenerate(engine.ES256, "watch-old"), sign.MustGenerate(engine.ES256, "watch-new")
	toks := reloadTokens(t, oldKey, newKey)
	path := writeConfig(t, oldKey, "reload:\n  interval: 100ms\n")
	r := startServe(t, "", "--config", path, "--watch", "--drain-period", "0s")
	addr := regexp.MustCompile(`listen=(\S+)`).FindStringSubmatch(r.stderr.await(t, "jwtgate serving"))[1]
	expectStatus(t, addr, toks[1], 401)
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "jwks.json"), sign.JWKS(newKey), 0o600); err != nil {
		t.Fatal(err)
	}
	r.stderr.await(t, "watched file changed")
	r.stderr.await(t, "configuration reloaded")
	expectStatus(t, addr, toks[1], 200)
	expectStatus(t, addr, toks[0], 401)
}

// TestServeGRPCSIGHUP checks that SIGHUP reloads the gRPC ext_authz
// service with the HTTP server: after a reload that moves the keys to
// another file (a new key store) and adds a rule, Check over the
// connection opened before it allows the new key's token, refuses the old
// key's, and applies the rule.
func TestServeGRPCSIGHUP(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGHUP, which Windows cannot send")
	}
	oldKey, newKey := sign.MustGenerate(engine.ES256, "grpc-hup-old"), sign.MustGenerate(engine.ES256, "grpc-hup-new")
	toks := reloadTokens(t, oldKey, newKey)
	path := writeConfig(t, oldKey, "")
	child := startChild(t, 0, "--config", path, "--drain-period", "0s", "--grpc-listen", "127.0.0.1:0")
	addr := regexp.MustCompile(`grpc_listen=(\S+)`).FindStringSubmatch(child.await(t, "gRPC ext_authz"))[1]
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	code := func(path, tok string) codes.Code {
		return codes.Code(checkOver(t, conn, path, tok).GetStatus().GetCode())
	}
	if got := code("/orders", toks[0]); got != codes.OK {
		t.Fatalf("old key before the reload: %v", got)
	}
	if got := code("/orders", toks[1]); got != codes.Unauthenticated {
		t.Fatalf("new key before the reload: %v", got)
	}

	dir := filepath.Dir(path)
	newJWKS := filepath.Join(dir, "jwks-new.json")
	if err := os.WriteFile(newJWKS, sign.JWKS(newKey), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf("listen: 127.0.0.1:0\nissuers:\n  - issuer: https://issuer.example\n    jwks_file: %s\n    audiences: [api]\nrules:\n  - path: /admin\n    scopes: [admin]\n", newJWKS)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := child.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	child.await(t, "configuration reloaded")
	if got := code("/orders", toks[1]); got != codes.OK {
		t.Errorf("new key after the reload: %v, want OK", got)
	}
	resp := checkOver(t, conn, "/orders", toks[0])
	if got := codes.Code(resp.GetStatus().GetCode()); got != codes.Unauthenticated || !strings.Contains(resp.GetDeniedResponse().GetBody(), `"reason":"unknown_kid"`) {
		t.Errorf("old key after the reload: %v %s, want UNAUTHENTICATED unknown_kid", got, resp.GetDeniedResponse().GetBody())
	}
	if got := code("/admin", toks[1]); got != codes.PermissionDenied {
		t.Errorf("rule added by the reload: %v, want PERMISSION_DENIED", got)
	}
	if code := child.stop(t); code != 0 {
		t.Errorf("exit %d:\n%s", code, child.stderr())
	}
}
