package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// TestChecksLikeJwtgateVerify checks that the peer program makes the checks
// jwtgate verify makes, no fewer (it would look fast) and no more: the
// signature with the JWKS key, exp required with 30 s leeway, the issuer
// and audience when given.
func TestChecksLikeJwtgateVerify(t *testing.T) {
	for _, alg := range []engine.Alg{engine.HS256, engine.RS256} {
		key := sign.MustGenerate(alg, "k1")
		jwks := filepath.Join(t.TempDir(), "jwks.json")
		if err := os.WriteFile(jwks, sign.JWKS(key), 0o644); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Unix()
		tok := func(k *sign.Key, claims map[string]any) string {
			s, err := k.Sign(claims)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		good := map[string]any{"iss": "https://idp", "aud": "api", "exp": now + 3600}
		with := func(name string, v any) map[string]any {
			c := map[string]any{"iss": "https://idp", "aud": "api", "exp": now + 3600}
			if v == nil {
				delete(c, name)
			} else {
				c[name] = v
			}
			return c
		}
		policy := []string{"--jwks", jwks, "--issuer", "https://idp", "--audience", "api"}
		cases := []struct {
			name  string
			token string
			args  []string
			want  int
		}{
			{"valid", tok(key, good), policy, 0},
			{"valid, no policy", tok(key, with("iss", "https://other")), []string{"--jwks", jwks}, 0},
			{"within leeway", tok(key, with("exp", now-10)), policy, 0},
			{"expired", tok(key, with("exp", now-3600)), policy, 1},
			{"no exp", tok(key, with("exp", nil)), policy, 1},
			{"wrong issuer", tok(key, with("iss", "https://other")), policy, 1},
			{"wrong audience", tok(key, with("aud", "other")), policy, 1},
			{"other key", tok(sign.MustGenerate(alg, "k1"), good), policy, 1},
			{"blank line", "", policy, 1},
		}
		for _, c := range cases {
			var out, errOut bytes.Buffer
			code := run(c.args, strings.NewReader(" "+c.token+"\r\n"), &out, &errOut)
			if code != c.want {
				t.Errorf("%v %s: exit %d (%s%s), want %d", alg, c.name, code, out.String(), errOut.String(), c.want)
			}
		}
	}
	var errOut bytes.Buffer
	if code := run(nil, strings.NewReader(""), &bytes.Buffer{}, &errOut); code != 2 || !strings.Contains(errOut.String(), "--jwks") {
		t.Errorf("no --jwks: exit %d, stderr %q; want 2 and the usage", code, errOut.String())
	}
}
