package keystore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// symmetrySets are key sets of every mix of secrets and public keys, with
// what a local source (file, inline) and a fetched one make of them.
func symmetrySets(t *testing.T) []struct {
	name           string
	set            []byte
	local, fetched error
	text           string
} {
	hs := jwk(t, signer(t, engine.HS256, "sym-hs"))
	hs512 := jwk(t, signer(t, engine.HS512, "sym-hs512"))
	rs := jwk(t, signer(t, engine.RS256, "sym-rs"))
	ec := jwk(t, signer(t, engine.ES256, "sym-ec"))
	ed := jwk(t, signer(t, engine.EdDSA, "sym-ed"))
	hsNoAlg := jwk(t, signer(t, engine.HS384, "sym-noalg"))
	delete(hsNoAlg, "alg") // skipped (oct keys never get an inferred alg), still a secret
	return []struct {
		name           string
		set            []byte
		local, fetched error
		text           string
	}{
		{"public keys only", jwks(t, rs, ec, ed), nil, nil, ""},
		{"secrets only", jwks(t, hs, hs512), nil, ErrPublishedSecret, "key #0 (kty oct) is an HMAC secret published on a URL"},
		{"secret then RSA", jwks(t, hs, rs), ErrMixedSymmetry, ErrPublishedSecret, "key #0 is an HMAC secret (kty oct) and key #1 a public key (kty RSA)"},
		{"EC then secret", jwks(t, ec, hs), ErrMixedSymmetry, ErrPublishedSecret, "key #1 is an HMAC secret (kty oct) and key #0 a public key (kty EC)"},
		{"OKP and an unusable secret", jwks(t, ed, hsNoAlg), ErrMixedSymmetry, ErrPublishedSecret, "kty OKP"},
	}
}

// TestKeySetSymmetry: a set mixing secrets and public keys is rejected as a
// whole, and a fetched set with any secret is, naming why and the fix.
func TestKeySetSymmetry(t *testing.T) {
	for _, c := range symmetrySets(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, fetched := range []bool{false, true} {
				want := c.local
				if fetched {
					want = c.fetched
				}
				keys, _, err := ParseJWKS(c.set, ParseOptions{Fetched: fetched})
				if want == nil {
					if err != nil || len(keys) == 0 {
						t.Fatalf("fetched=%v: %d keys, %v", fetched, len(keys), err)
					}
					continue
				}
				if !errors.Is(err, want) || keys != nil {
					t.Fatalf("fetched=%v: %d keys, %v; want %v", fetched, len(keys), err, want)
				}
				if errors.Is(want, ErrPublishedSecret) {
					mustContain(t, err.Error(), "published on a URL", "anyone can fetch it", "jwks_file", "inline key set", "rotate it")
				} else {
					mustContain(t, err.Error(), c.text, "separate sets")
				}
			}
		})
	}
}

// TestKeySetSymmetryLocalSources: a mixed set from an inline set fails New,
// and from a key file fails Start, naming the reason (and the file): one
// rule for every source.
func TestKeySetSymmetryLocalSources(t *testing.T) {
	for _, c := range symmetrySets(t) {
		if c.local == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			inline, err := New(Options{Clock: newFakeClock(), Logger: (&logBuffer{}).logger()}, Issuer{Issuer: testIssuer, JWKS: c.set})
			if inline != nil {
				inline.Close()
				t.Fatal("inline: a mixed set was accepted")
			}
			if !errors.Is(err, ErrMixedSymmetry) || !errors.Is(err, ErrConfig) {
				t.Fatalf("inline: %v", err)
			}
			mustContain(t, err.Error(), c.text, testIssuer, "JWKS: key set mixes", "separate issuers")
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, c.set, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := New(Options{Clock: newFakeClock(), Logger: (&logBuffer{}).logger()}, Issuer{Issuer: testIssuer, JWKSFile: path})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Start(context.Background())
			if !errors.Is(err, ErrMixedSymmetry) {
				t.Fatalf("file: %v", err)
			}
			mustContain(t, err.Error(), c.text, path)
		})
	}
}

// TestFetchedBadSetKeepsTheLastGoodKeys: a refresh (through a JWKS URL or
// discovery) that brings a secret, or a mixed set, fails as an invalid
// fetch naming why; the last good keys stay published.
func TestFetchedBadSetKeepsTheLastGoodKeys(t *testing.T) {
	for _, discovery := range []bool{false, true} {
		for _, c := range symmetrySets(t) {
			if c.fetched == nil {
				continue
			}
			name := "jwks_url/" + c.name
			if discovery {
				name = "discovery/" + c.name
			}
			t.Run(name, func(t *testing.T) {
				var iss string
				f := newRemoteFixture(t, func(cfg *Issuer, _ *Options) {
					if discovery {
						base := strings.TrimSuffix(cfg.JWKSURL, "/jwks")
						cfg.JWKSURL, cfg.Issuer, cfg.Discovery = "", base+"/tenant", base+"/tenant"
					}
					iss = cfg.Issuer
				})
				if discovery {
					discoveryServer(t, f, iss)
				}
				ctx := context.Background()
				if err := f.s.Refresh(ctx, iss); err != nil {
					t.Fatal(err)
				}
				f.mustResolve(t)
				good := f.s.issuers[0].snap.Load()
				bad := c.set
				if discovery {
					serveDiscovery(t, f, iss, bad)
				} else {
					f.srv.set(bad)
				}
				err := f.s.Refresh(ctx, iss)
				var fe *FetchError
				if !errors.As(err, &fe) || fe.Kind != KindInvalid || !errors.Is(err, c.fetched) {
					t.Fatalf("refresh: %v", err)
				}
				mustContain(t, err.Error(), "published on a URL", "jwks_file")
				if f.s.issuers[0].snap.Load() != good {
					t.Fatal("a bad set replaced the last good keys")
				}
				f.mustResolve(t)
				mustContain(t, f.s.Issuers()[0].LastError, "HMAC secret published on a URL")
				if f.s.Stats().FetchErrors[KindInvalid] != 1 {
					t.Fatalf("%+v", f.s.Stats())
				}
			})
		}
	}
}

// serveDiscovery makes the fixture's server a discovery document for iss
// pointing at body.
func serveDiscovery(t *testing.T, f *remoteFixture, iss string, body []byte) {
	t.Helper()
	doc := `{"issuer":"` + iss + `","jwks_uri":"` + f.srv.URL + `/keys"}`
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tenant" + wellKnown:
			w.Write([]byte(doc))
		case "/keys":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	})
}

// TestKeySetSymmetryAcrossSources: an issuer's sources together follow the
// same rule as one set: secrets from one source and public keys from
// another (inline set, pre-built keys, key file, PEM file, fetched set) are
// refused, naming both keys and their sources.
func TestKeySetSymmetryAcrossSources(t *testing.T) {
	hs, rs := signer(t, engine.HS256, "x-hs"), signer(t, engine.RS256, "x-rs")
	engineKey := func(k *sign.Key) *engine.Key {
		ek, err := k.EngineKey()
		if err != nil {
			t.Fatal(err)
		}
		return ek
	}
	dir := t.TempDir()
	pemPath, secretsPath := filepath.Join(dir, "rs.pem"), filepath.Join(dir, "secrets.json")
	if err := os.WriteFile(pemPath, pkixPEM(t, rs), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretsPath, jwks(t, jwk(t, hs)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  Issuer
		text string
	}{
		{"inline set and pre-built key", Issuer{JWKS: jwks(t, jwk(t, hs)), Keys: []*engine.Key{engineKey(rs)}},
			"key #0 of the inline keys is an HMAC secret (HS256) and key #1 of the inline keys a public key (RS256)"},
		{"pre-built key and PEM file", Issuer{Keys: []*engine.Key{engineKey(hs)}, PEMFiles: []string{pemPath}},
			"key #0 of the inline keys is an HMAC secret (HS256) and key #0 of the key files a public key (RS256)"},
		{"key file and PEM file", Issuer{JWKSFile: secretsPath, PEMFiles: []string{pemPath}},
			"key #0 of the key files is an HMAC secret (HS256) and key #1 of the key files a public key (RS256)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Issuer = testIssuer
			s, err := New(Options{Clock: newFakeClock(), Logger: (&logBuffer{}).logger()}, c.cfg)
			if err == nil {
				defer s.Close()
				err = s.Start(context.Background())
			}
			if !errors.Is(err, ErrMixedSymmetry) || !errors.Is(err, ErrConfig) {
				t.Fatalf("%v", err)
			}
			mustContain(t, err.Error(), c.text, "separate issuers")
			if s != nil {
				if err := checkKeySymmetry(s.issuers[0].snap.Load().keys, func(i int) string { return fmt.Sprint(i) }); err != nil {
					t.Fatalf("published: %v", err)
				}
			}
		})
	}
	t.Run("inline secret and fetched set", func(t *testing.T) {
		f := newRemoteFixture(t, func(cfg *Issuer, _ *Options) { cfg.JWKS = jwks(t, jwk(t, hs)) })
		err := f.s.Refresh(context.Background(), testIssuer)
		var fe *FetchError
		if !errors.As(err, &fe) || fe.Kind != KindInvalid || !errors.Is(err, ErrMixedSymmetry) {
			t.Fatalf("refresh: %v", err)
		}
		mustContain(t, err.Error(), "key #0 of the inline keys is an HMAC secret (HS256) and key #0 of the fetched set a public key (ES256)")
		if _, err := f.s.LookupKey(nil, f.kid, engine.ES256); err == nil {
			t.Fatal("the fetched key was published next to the secret")
		}
	})
}
