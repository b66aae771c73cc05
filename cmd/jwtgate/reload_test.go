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
