package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// TestKeysRoundTrip generates a key for every algorithm, signs a token with
// it and verifies the token against the generated JWKS, all through the CLI.
func TestKeysRoundTrip(t *testing.T) {
	for _, alg := range engine.Algorithms() {
		t.Run(alg.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			priv, jwks := filepath.Join(dir, "key.json"), filepath.Join(dir, "jwks.json")
			code, out, errOut := runCmd(t, "", "keys", "generate", "--alg", alg.String(), "--out-private", priv, "--out-jwks", jwks)
			if code != exitOK || out != "" {
				t.Fatalf("generate: exit %d, stdout %q, stderr %s", code, out, errOut)
			}
			if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("private key file: %v, mode %v; want 0600", err, fi.Mode())
			}
			code, tok, errOut := runCmd(t, "", "keys", "sign", "--key", priv, "--sub", "alice", "--iss", "https://idp",
				"--aud", "api", "--aud", "web", "--scope", "read write", "--jti", "j1", "--claims", `{"tenant":"t1","n":12345678901234567890}`)
			if code != exitOK || strings.Count(tok, ".") != 2 || !strings.HasSuffix(tok, "\n") {
				t.Fatalf("sign: exit %d, stdout %q, stderr %s", code, tok, errOut)
			}
			code, out, errOut = runCmd(t, "", "verify", "--jwks", jwks, "--issuer", "https://idp", "--audience", "web", strings.TrimSpace(tok))
			if code != exitOK {
				t.Fatalf("verify: exit %d, stdout %s, stderr %s", code, out, errOut)
			}
			r := parseResults(t, out)[0]
			if r.Header["alg"] != alg.String() || r.Header["typ"] != "JWT" || r.Header["kid"] == "" {
				t.Errorf("header %v", r.Header)
			}
			c := r.Claims
			if c["sub"] != "alice" || c["scope"] != "read write" || c["jti"] != "j1" || c["tenant"] != "t1" || c["n"] != 12345678901234567890.0 {
				t.Errorf("claims %v", c)
			}
			if aud, _ := c["aud"].([]any); len(aud) != 2 {
				t.Errorf("aud %v, want [api web]", c["aud"])
			}
			exp, iat := c["exp"].(float64), c["iat"].(float64)
			if exp-iat != 3600 || time.Since(time.Unix(int64(iat), 0)) > time.Minute {
				t.Errorf("iat %v exp %v: want iat now and exp an hour later", iat, exp)
			}
		})
	}
}

func TestKeysGenerateToStdout(t *testing.T) {
	code, out, errOut := runCmd(t, "", "keys", "generate", "--alg", "ES256")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 2 {
		t.Fatalf("exit %d, %d lines, stderr %s: want 0 and two lines\n%s", code, len(lines), errOut, out)
	}
	key, err := sign.ParsePrivateJWK([]byte(lines[0]))
	if err != nil {
		t.Fatalf("first line is not a private JWK: %v", err)
	}
	var set struct{ Keys []sign.JWK }
	if err := json.Unmarshal([]byte(lines[1]), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].D != "" {
		t.Fatalf("second line %s: want a JWKS of one public key", lines[1])
	}
	// The default kid is the RFC 7638 thumbprint, the same in both.
	if key.Kid == "" || key.Kid != set.Keys[0].Kid || key.Kid != thumbprint(set.Keys[0]) {
		t.Fatalf("kid %q, JWKS kid %q, thumbprint %q", key.Kid, set.Keys[0].Kid, thumbprint(set.Keys[0]))
	}
	// Only the document not written to a file is printed.
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	code, out, _ = runCmd(t, "", "keys", "generate", "--alg", "HS384", "--kid", "mine", "--out-jwks", jwks)
	if code != exitOK || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"kid":"mine"`) || !strings.Contains(out, `"k":`) {
		t.Fatalf("exit %d, stdout %q: want only the private JWK", code, out)
	}
}

// TestThumbprintRFC7638 checks the example of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	j := sign.JWK{
		Kty: "RSA", E: "AQAB", Alg: "RS256", Kid: "2011-04-29",
		N: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
	}
	if got, want := thumbprint(j), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

func TestKeysGenerateRefusesToOverwrite(t *testing.T) {
	priv := filepath.Join(t.TempDir(), "key.json")
	if code, _, errOut := runCmd(t, "", "keys", "generate", "--alg", "EdDSA", "--out-private", priv, "--out-jwks", priv+".jwks"); code != exitOK {
		t.Fatalf("first generate: exit %d %s", code, errOut)
	}
	before, _ := os.ReadFile(priv)
	code, _, errOut := runCmd(t, "", "keys", "generate", "--alg", "EdDSA", "--out-private", priv)
	if code != exitFailure || !strings.Contains(errOut, "--out-private "+priv) || !strings.Contains(errOut, "exists") {
		t.Fatalf("exit %d, stderr %q: want 1 naming --out-private and saying it exists", code, errOut)
	}
	if after, _ := os.ReadFile(priv); string(after) != string(before) {
		t.Fatal("the existing private key was changed")
	}
	if code, _, errOut := runCmd(t, "", "keys", "generate", "--alg", "EdDSA", "--out-private", priv, "--force"); code != exitOK {
		t.Fatalf("--force: exit %d %s", code, errOut)
	}
	if after, _ := os.ReadFile(priv); string(after) == string(before) {
		t.Fatal("--force did not replace the key")
	}
}

func TestKeysSignOptions(t *testing.T) {
	f := newFixture(t, engine.ES256, "k1")
	priv := filepath.Join(f.dir, "key.json")
	pj, _ := json.Marshal(f.key.PrivateJWK())
	os.WriteFile(priv, pj, 0o600)
	signTok := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, "", append([]string{"keys", "sign", "--key", priv}, args...)...)
		if code != exitOK {
			t.Fatalf("sign %v: exit %d, stderr %s", args, code, errOut)
		}
		return strings.TrimSpace(out)
	}
	verify := func(tok string) result {
		t.Helper()
		_, out, _ := runCmd(t, "", "verify", "--jwks", f.jwks, tok)
		return parseResults(t, out)[0]
	}
	if r := verify(signTok("--exp", "-1h")); r.Reason != "expired" {
		t.Errorf("--exp -1h: %+v, want expired", r)
	}
	if r := verify(signTok("--exp", "0")); r.Reason != "missing_claim" {
		t.Errorf("--exp 0: %+v, want missing_claim (no exp)", r)
	}
	if r := verify(signTok("--nbf", "1h")); r.Reason != "not_yet_valid" {
		t.Errorf("--nbf 1h: %+v, want not_yet_valid", r)
	}
	if r := verify(signTok("--claims", `{"exp":1}`)); r.Reason != "expired" {
		t.Errorf("exp from --claims must be kept: %+v", r)
	}
	if r := verify(signTok("--claims", `{"exp":1}`, "--exp", "2h")); !r.Valid {
		t.Errorf("--exp given overrides the claims' exp: %+v", r)
	}
	if r := verify(signTok("--iat=false")); !r.Valid || r.Claims["iat"] != nil {
		t.Errorf("--iat=false: %+v, want valid without iat", r)
	}
	if r := verify(signTok("--header", `{"kid":null,"typ":"at+jwt","x":1}`)); !r.Valid || r.Header["kid"] != nil || r.Header["typ"] != "at+jwt" || r.Header["x"] != 1.0 {
		t.Errorf("--header: %+v, want no kid, typ at+jwt and x", r)
	}
	if r := verify(signTok("--header", `{"alg":"ES384"}`)); r.Valid || r.Reason != "alg_mismatch" {
		t.Errorf("--header alg override: %+v, want alg_mismatch", r)
	}
	if r := verify(signTok("--header", `{"kid":"other"}`)); r.Reason != "unknown_kid" {
		t.Errorf("--header kid override: %+v, want unknown_kid", r)
	}
}

func TestKeysErrors(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "key.json")
	if code, _, _ := runCmd(t, "", "keys", "generate", "--alg", "HS256", "--out-private", priv, "--out-jwks", priv+".jwks"); code != exitOK {
		t.Fatal("generate failed")
	}
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte(`{"kty":"EC","alg":"ES256","d":"!!"}`), 0o600)
	huge := filepath.Join(dir, "huge.json")
	os.WriteFile(huge, make([]byte, maxKeyFile+1), 0o600)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"keys"}, exitUsage, "SUBCOMMAND"},
		{[]string{"keys", "rotate"}, exitUsage, `unknown subcommand "rotate"`},
		{[]string{"keys", "generate"}, exitUsage, "--alg is required"},
		{[]string{"keys", "generate", "--alg", "none"}, exitUsage, `--alg: unknown algorithm "none"`},
		{[]string{"keys", "generate", "--alg", "rs256"}, exitUsage, `--alg: unknown algorithm "rs256"`},
		{[]string{"keys", "generate", "--alg", "ES256", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"keys", "generate", "--size", "4096"}, exitUsage, "--size"},
		{[]string{"keys", "generate", "--alg", "ES256", "--out-jwks", filepath.Join(dir, "no", "such", "dir")}, exitFailure, "--out-jwks"},
		{[]string{"keys", "sign"}, exitUsage, "--key is required"},
		{[]string{"keys", "sign", "--key", filepath.Join(dir, "missing")}, exitUsage, "--key " + filepath.Join(dir, "missing")},
		{[]string{"keys", "sign", "--key", garbage}, exitUsage, "--key " + garbage},
		{[]string{"keys", "sign", "--key", huge}, exitUsage, "larger than"},
		{[]string{"keys", "sign", "--key", priv, "--claims", `[1,2]`}, exitUsage, "--claims: must be a JSON object"},
		{[]string{"keys", "sign", "--key", priv, "--claims", `null`}, exitUsage, "--claims: must be a JSON object"},
		{[]string{"keys", "sign", "--key", priv, "--claims", `{"a":1} {"b":2}`}, exitUsage, "--claims: has data after"},
		{[]string{"keys", "sign", "--key", priv, "--claims", `{"a":`}, exitUsage, "--claims: not valid JSON"},
		{[]string{"keys", "sign", "--key", priv, "--header", `"x"`}, exitUsage, "--header: must be a JSON object"},
		{[]string{"keys", "sign", "--key", priv, "--exp", "soon"}, exitUsage, "--exp"},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(t, "", c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q: want %d and a message with %q", c.args, code, errOut, c.code, c.want)
		}
		if out != "" {
			t.Errorf("%v: printed %q on stdout on failure", c.args, out)
		}
	}
	for _, args := range [][]string{{"keys", "--help"}, {"keys", "generate", "--help"}, {"keys", "sign", "-h"}} {
		code, out, errOut := runCmd(t, "", args...)
		if code != exitOK || errOut != "" || !strings.Contains(out, "Usage: jwtgate keys") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestKeysSignWithPublicKeyNamesTheFix checks that signing with the public
// JWKS or a public JWK, which 'keys generate' writes beside the private
// JWK, says so and names the file to use.
func TestKeysSignWithPublicKeyNamesTheFix(t *testing.T) {
	dir := t.TempDir()
	priv, jwks := filepath.Join(dir, "k.key.json"), filepath.Join(dir, "jwks.json")
	if code, _, errOut := runCmd(t, "", "keys", "generate", "--alg", "ES256", "--out-private", priv, "--out-jwks", jwks); code != exitOK {
		t.Fatalf("generate: %d %s", code, errOut)
	}
	var set struct{ Keys []json.RawMessage }
	data, _ := os.ReadFile(jwks)
	if err := json.Unmarshal(data, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", data, err)
	}
	pub := filepath.Join(dir, "pub.json")
	os.WriteFile(pub, set.Keys[0], 0o600)
	for file, want := range map[string]string{jwks: "this is a public key set", pub: "this is a public JWK"} {
		code, _, errOut := runCmd(t, "", "keys", "sign", "--key", file)
		if code != exitUsage || !strings.Contains(errOut, want) || !strings.Contains(errOut, "--out-private") {
			t.Errorf("--key %s: exit %d, stderr %q: want 2, %q and the private JWK's flag", file, code, errOut, want)
		}
	}
	if code, _, errOut := runCmd(t, "", "keys", "sign", "--key", priv); code != exitOK {
		t.Errorf("--key of the private JWK: exit %d %s", code, errOut)
	}
}
