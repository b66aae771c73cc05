package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// TestServeExitCodes checks that serve and serve --check-config exit with
// the same code for the same problem: 1 for a key file missing, broken or
// without a usable key; 2 for an invalid configuration; and that the check
// says which file.
func TestServeExitCodes(t *testing.T) {
	key := sign.MustGenerate(engine.ES256, "codes")
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"keys": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, []byte(`{"keys": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	invalid := writeConfig(t, key, "limits:\n  max_token_bytes: 10\n")
	withFile := func(file string) []string {
		return []string{"--listen", "127.0.0.1:0", "--jwks-file", file, "--issuer", "https://issuer.example", "--audience", "api"}
	}
	cases := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"missing key file", withFile(missing), exitFailure, missing},
		{"broken key file", withFile(broken), exitFailure, broken},
		{"key file without keys", withFile(empty), exitFailure, empty},
		{"invalid config", []string{"--config", invalid}, exitUsage, invalid + ":7: limits.max_token_bytes"},
		{"missing config", []string{"--config", filepath.Join(dir, "none.yaml")}, exitUsage, "none.yaml"},
	}
	for _, c := range cases {
		for _, mode := range []string{"serve", "check"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				args := c.args
				if mode == "check" {
					args = append([]string{"--check-config"}, args...)
				}
				var out, errw bytes.Buffer
				code := serve(context.Background(), args, "", &out, &errw)
				if code != c.code {
					t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out.String(), errw.String())
				}
				if !strings.Contains(errw.String(), c.says) {
					t.Errorf("stderr does not name %q:\n%s", c.says, errw.String())
				}
				if strings.Contains(out.String(), "configuration OK") {
					t.Errorf("said OK:\n%s", out.String())
				}
			})
		}
	}
}

// TestCheckConfigReportsKeys checks what --check-config prints: the keys of
// each local issuer (kid and algorithm), a remote one not fetched without
// --online, and fetched with it; an unreachable remote key set is exit 1
// online only.
func TestCheckConfigReportsKeys(t *testing.T) {
	k1, k2 := sign.MustGenerate(engine.ES256, "local-1"), sign.MustGenerate(engine.EdDSA, "local-2")
	remote := sign.MustGenerate(engine.ES256, "remote-1")
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(sign.JWKS(remote)) //nolint:errcheck // the test fails on a short answer
	}))
	t.Cleanup(idp.Close)
	dir := t.TempDir()
	jwks := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(jwks, sign.JWKS(k1, k2), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := func(url string) string {
		path := filepath.Join(t.TempDir(), "jwtgate.yaml")
		src := "issuers:\n  - issuer: https://local.example\n    jwks_file: " + jwks + "\n    audiences: [api]\n" +
			"  - issuer: https://remote.example\n    jwks_url: " + url + "\n    audiences: [api]\n"
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := yaml(idp.URL + "/jwks")
	unreachable := yaml("http://" + closedLoopbackAddr(t) + "/jwks")

	var out, errw bytes.Buffer
	if code := serve(context.Background(), []string{"--check-config", "--config", good}, "", &out, &errw); code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out.String(), errw.String())
	}
	for _, want := range []string{
		"issuer https://local.example: jwks_file " + jwks + ": 2 keys: kid local-1 ES256, kid local-2 EdDSA",
		"issuer https://remote.example: jwks_url " + idp.URL + "/jwks: not fetched",
		"configuration OK (remote key sets not fetched: add --online to fetch them)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := serve(context.Background(), []string{"--check-config", "--online", "--config", good}, "", &out, &errw); code != exitOK {
		t.Fatalf("--online: exit %d: %s%s", code, out.String(), errw.String())
	}
	if want := "issuer https://remote.example: jwks_url " + idp.URL + "/jwks: 1 key: kid remote-1 ES256"; !strings.Contains(out.String(), want) {
		t.Errorf("--online: no %q in:\n%s", want, out.String())
	}
	out.Reset()
	if code := serve(context.Background(), []string{"--check-config", "--config", unreachable}, "", &out, &errw); code != exitOK {
		t.Errorf("unreachable remote, offline: exit %d: %s%s", code, out.String(), errw.String())
	}
	out.Reset()
	errw.Reset()
	if code := serve(context.Background(), []string{"--check-config", "--online", "--config", unreachable}, "", &out, &errw); code != exitFailure ||
		!strings.Contains(errw.String(), "key source unusable: issuer https://remote.example: jwks_url") {
		t.Errorf("unreachable remote, --online: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errw.String())
	}
	errw.Reset()
	if code := serve(context.Background(), []string{"--online", "--config", good}, "", &out, &errw); code != exitUsage {
		t.Errorf("--online without --check-config: exit %d", code)
	}
}
