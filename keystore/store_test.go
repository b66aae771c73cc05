package keystore

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

func TestNewRejectsBadConfig(t *testing.T) {
	es := signer(t, engine.ES256, "cfg")
	good := jwks(t, jwk(t, es))
	engKey, err := es.EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	dupKey, _ := signer(t, engine.ES256, "cfg2").EngineKey()
	_ = dupKey
	sameKid, err := engine.NewKey(engine.ES256, "cfg", signer(t, engine.ES256, "cfg2").Public())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		issuers []Issuer
		text    string
	}{
		{"none", nil, "no issuer configured"},
		{"no source", []Issuer{{Issuer: "a"}}, `issuer "a": no key source`},
		{"empty issuer among several", []Issuer{{Issuer: "a", JWKS: good}, {JWKS: good}}, `issuer #1 (""): Issuer may be empty only when it is the store's only issuer`},
		{"duplicate issuer", []Issuer{{Issuer: "a", JWKS: good}, {Issuer: "a", JWKS: good}}, `issuer "a" is configured twice`},
		{"url and discovery", []Issuer{{Issuer: "a", JWKSURL: "https://a/jwks", Discovery: "https://a"}}, "JWKSURL and Discovery are exclusive"},
		{"bad url", []Issuer{{Issuer: "a", JWKSURL: "ftp://a/jwks"}}, `JWKSURL: "ftp://a/jwks" is not an http or https URL`},
		{"url without host", []Issuer{{Issuer: "a", JWKSURL: "https:///jwks"}}, "has no host"},
		{"discovery without issuer", []Issuer{{Discovery: "https://a"}}, "Discovery needs Issuer"},
		{"negative cooldown", []Issuer{{Issuer: "a", JWKS: good, Cooldown: -time.Second}}, "Cooldown must not be negative"},
		{"min above max", []Issuer{{Issuer: "a", JWKS: good, RefreshMin: time.Hour, RefreshMax: time.Minute}}, "RefreshMin (1h0m0s) is larger than RefreshMax (1m0s)"},
		{"negative rotation gap", []Issuer{{Issuer: "a", JWKS: good, RotationGap: -time.Second}}, "RotationGap must not be negative"},
		{"rotation gap above cooldown", []Issuer{{Issuer: "a", JWKS: good, Cooldown: 10 * time.Second, RotationGap: time.Minute}}, "RotationGap (1m0s) is larger than Cooldown (10s)"},
		{"negative removed-kid TTL", []Issuer{{Issuer: "a", JWKS: good, RemovedKidTTL: -time.Second}}, "RemovedKidTTL must not be negative"},
		{"negative body", []Issuer{{Issuer: "a", JWKS: good, MaxBody: -1}}, "MaxBody must not be negative"},
		{"bad algorithm", []Issuer{{Issuer: "a", JWKS: good, Algorithms: []engine.Alg{0}}}, "Algorithms: 0 is not an algorithm"},
		{"nil key", []Issuer{{Issuer: "a", Keys: []*engine.Key{nil}}}, "Keys[0] is nil"},
		{"bad inline", []Issuer{{Issuer: "a", JWKS: []byte(`{"keys":[]}`)}}, `issuer "a": JWKS: no usable verification key`},
		{"inline and Keys ambiguous", []Issuer{{Issuer: "a", JWKS: good, Keys: []*engine.Key{engKey, sameKid}}},
			`kid "cfg" with alg ES256 is both key #0 of the inline keys and key #1 of the inline keys`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(Options{}, c.issuers...)
			if !errors.Is(err, ErrConfig) || s != nil {
				t.Fatalf("err %v, want ErrConfig", err)
			}
			mustContain(t, err.Error(), c.text)
		})
	}
}

func TestDiscoveryURLCompletion(t *testing.T) {
	for in, want := range map[string]string{
		"https://idp.example":                                  "https://idp.example/.well-known/openid-configuration",
		"https://idp.example/realms/x/":                        "https://idp.example/realms/x/.well-known/openid-configuration",
		"https://idp.example/.well-known/openid-configuration": "https://idp.example/.well-known/openid-configuration",
	} {
		s, err := New(Options{}, Issuer{Issuer: "https://idp.example", Discovery: in})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.issuers[0].cfg.Discovery; got != want {
			t.Fatalf("%s → %s, want %s", in, got, want)
		}
	}
}

// lookupFixture is a store with two issuers that reuse a kid, plus keys of
// several algorithms.
type lookupFixture struct {
	s                        *Store
	rsA, esA, psA, rsB, rsB2 *engine.Key
}

func newLookupFixture(t testing.TB) *lookupFixture {
	a1 := jwk(t, signer(t, engine.RS256, "shared"))
	a2 := jwk(t, signer(t, engine.ES256, "es"))
	a3 := jwk(t, signer(t, engine.PS256, "ps"))
	b1 := jwk(t, signer(t, engine.RS256, "shared-b"))
	b1["kid"] = "shared" // issuer B reuses issuer A's kid with its own key
	b2 := jwk(t, signer(t, engine.RS256, "b2"))
	s, err := New(Options{Clock: newFakeClock(), Logger: slog.New(slog.DiscardHandler)},
		Issuer{Issuer: "https://a.example", JWKS: jwks(t, a1, a2, a3)},
		Issuer{Issuer: "https://b.example", JWKS: jwks(t, b1, b2)},
	)
	if err != nil {
		t.Fatal(err)
	}
	f := &lookupFixture{s: s}
	ka, kb := s.Keys("https://a.example"), s.Keys("https://b.example")
	f.rsA, f.esA, f.psA, f.rsB, f.rsB2 = ka[0], ka[1], ka[2], kb[0], kb[1]
	return f
}

func TestLookupKeyRouting(t *testing.T) {
	f := newLookupFixture(t)
	cases := []struct {
		name     string
		iss, kid string
		alg      engine.Alg
		want     *engine.Key
		err      error
	}{
		{"kid and alg", "https://a.example", "shared", engine.RS256, f.rsA, nil},
		{"same kid, other issuer", "https://b.example", "shared", engine.RS256, f.rsB, nil},
		{"kid bound to another alg", "https://a.example", "es", engine.RS256, f.esA, nil},
		{"no kid, one key of alg", "https://a.example", "", engine.ES256, f.esA, nil},
		{"no kid, no key of alg", "https://a.example", "", engine.EdDSA, f.rsA, nil},
		{"no kid, several keys of alg", "https://b.example", "", engine.RS256, nil, engine.ErrKidRequired},
		{"unknown kid, static issuer", "https://a.example", "nope", engine.RS256, nil, engine.ErrUnknownKid},
		{"unknown issuer", "https://c.example", "shared", engine.RS256, nil, engine.ErrUnknownIssuer},
		{"issuer differs in case", "https://A.example", "shared", engine.RS256, nil, engine.ErrUnknownIssuer},
		{"no issuer", "", "shared", engine.RS256, nil, engine.ErrUnknownIssuer},
	}
	for _, c := range cases {
		var iss []byte
		if c.iss != "" {
			iss = []byte(c.iss)
		}
		k, err := f.s.LookupKey(iss, []byte(c.kid), c.alg)
		if k != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Fatalf("%s: got %v, %v; want %v, %v", c.name, k, err, c.want, c.err)
		}
	}
	_, err := f.s.LookupKey([]byte("https://b.example"), nil, engine.RS256)
	mustContain(t, err.Error(), "kid is required: the RS256 token has no kid, and the issuer's keys are RS256")
	_, err = f.s.LookupKey([]byte("https://a.example"), []byte("nope"), engine.RS256)
	mustContain(t, err.Error(), `no key with the token's kid is known for issuer "https://a.example"`)
}

func TestLookupKeySingleIssuerRoutesEverything(t *testing.T) {
	es := signer(t, engine.ES256, "only")
	s, err := New(Options{}, Issuer{Issuer: testIssuer, JWKS: jwks(t, jwk(t, es))})
	if err != nil {
		t.Fatal(err)
	}
	for _, iss := range []string{testIssuer, "https://other.example", ""} {
		k, err := s.LookupKey([]byte(iss), []byte("only"), engine.ES256)
		if err != nil || k.Kid() != "only" {
			t.Fatalf("iss %q: %v", iss, err)
		}
	}
}

func TestLookupKeyKidlessKeys(t *testing.T) {
	// PEM keys have no kid: tokens are matched by algorithm, whatever kid they carry.
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	rs := signer(t, engine.RS256, "pem")
	if err := os.WriteFile(path, pkixPEM(t, rs), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{}, Issuer{Issuer: testIssuer, PEMFiles: []string{path}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupKey(nil, []byte("any"), engine.RS256); !errors.Is(err, engine.ErrKeysUnavailable) {
		t.Fatalf("before Start: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, kid := range []string{"", "rotating-kid-7"} {
		k, err := s.LookupKey(nil, []byte(kid), engine.RS256)
		if err != nil || k.Alg() != engine.RS256 {
			t.Fatalf("kid %q: %v", kid, err)
		}
		verifies(t, k, rs)
	}
	// Two kid-less keys of one algorithm: a token's kid cannot choose.
	path2 := filepath.Join(dir, "key2.pem")
	if err := os.WriteFile(path2, pkixPEM(t, signer(t, engine.RS256, "pem2")), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := New(Options{}, Issuer{Issuer: testIssuer, PEMFiles: []string{path, path2}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	_, err = s2.LookupKey(nil, []byte("x"), engine.RS256)
	if !errors.Is(err, engine.ErrUnknownKid) {
		t.Fatal(err)
	}
	mustContain(t, err.Error(), "its keys have no kid, and several are bound to the token's algorithm")
	if _, err := s2.LookupKey(nil, nil, engine.RS256); !errors.Is(err, engine.ErrKidRequired) {
		t.Fatal(err)
	}
}

func TestStartFailsOnBadLocalFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cfg  Issuer
		text string
	}{
		{Issuer{Issuer: "a", JWKSFile: filepath.Join(dir, "missing.json")}, "no such file"},
		{Issuer{Issuer: "a", JWKSFile: bad}, "RSA modulus is 17 bits"},
		{Issuer{Issuer: "a", JWKSFile: big, MaxBody: 1024}, "is larger than 1024 bytes"},
		{Issuer{Issuer: "a", PEMFiles: []string{bad}}, "PEM file " + bad},
	}
	for _, c := range cases {
		s, err := New(Options{}, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Start(context.Background())
		if !errors.Is(err, ErrConfig) {
			t.Fatalf("%+v: %v", c.cfg, err)
		}
		mustContain(t, err.Error(), `issuer "a"`, c.text)
		s.Close()
	}
}

func TestRefreshReloadsFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jwks.json")
	k1, k2 := signer(t, engine.ES256, "f1"), signer(t, engine.ES256, "f2")
	write := func(keys ...any) {
		if err := os.WriteFile(path, jwks(t, keys...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(jwk(t, k1))
	s, err := New(Options{}, Issuer{Issuer: testIssuer, JWKSFile: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, _ := s.LookupKey(nil, []byte("f1"), engine.ES256)
	write(jwk(t, k1), jwk(t, k2))
	if err := s.Refresh(ctx, testIssuer); err != nil {
		t.Fatal(err)
	}
	same, _ := s.LookupKey(nil, []byte("f1"), engine.ES256)
	if same != first || same.Retired() {
		t.Fatal("an unchanged key must keep its pointer")
	}
	if _, err := s.LookupKey(nil, []byte("f2"), engine.ES256); err != nil {
		t.Fatal(err)
	}
	write(jwk(t, k2))
	if err := s.Refresh(ctx, testIssuer); err != nil {
		t.Fatal(err)
	}
	if !first.Retired() {
		t.Fatal("a dropped key must be retired")
	}
	if _, err := s.LookupKey(nil, []byte("f1"), engine.ES256); !errors.Is(err, engine.ErrKeyRemoved) {
		t.Fatal(err)
	}
	// A broken file keeps the last good keys and reports the error.
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(ctx, testIssuer); !errors.Is(err, ErrNotJWKS) {
		t.Fatal(err)
	}
	if _, err := s.LookupKey(nil, []byte("f2"), engine.ES256); err != nil {
		t.Fatal(err)
	}
	st := s.Issuers()[0]
	if st.Keys != 1 || !st.Ready || st.LastError == "" {
		t.Fatalf("%+v", st)
	}
}

func TestStaticKeysKeepTheirPointer(t *testing.T) {
	k, err := signer(t, engine.EdDSA, "static").EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{}, Issuer{Keys: []*engine.Key{k}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupKey([]byte("whatever"), []byte("static"), engine.EdDSA)
	if got != k || err != nil {
		t.Fatalf("%v %v", got, err)
	}
	if !s.Ready() {
		t.Fatal("not ready")
	}
}

func TestLookupAllocations(t *testing.T) {
	f := newLookupFixture(t)
	iss, kid := []byte("https://b.example"), []byte("shared")
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := f.s.LookupKey(iss, kid, engine.RS256); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("hit: %v allocs", n)
	}
	unknownIss := []byte("https://c.example")
	if n := testing.AllocsPerRun(1000, func() { f.s.LookupKey(unknownIss, kid, engine.RS256) }); n != 0 {
		t.Fatalf("unknown issuer: %v allocs", n)
	}
	noKid := []byte("https://b.example")
	if n := testing.AllocsPerRun(1000, func() { f.s.LookupKey(noKid, nil, engine.RS256) }); n != 0 {
		t.Fatalf("kid required: %v allocs", n)
	}
	rs := newRemoteFixture(t, nil)
	bogus := []byte("bogus-kid")
	if _, err := rs.s.LookupKey(nil, bogus, engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
		t.Fatal(err)
	}
	before := rs.srv.requests.Load()
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := rs.s.LookupKey(nil, bogus, engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("negative hit: %v allocs", n)
	}
	if rs.srv.requests.Load() != before {
		t.Fatal("negative hits fetched")
	}
	if n := testing.AllocsPerRun(1000, func() { rs.s.LookupKey(nil, rs.kid, engine.ES256) }); n != 0 {
		t.Fatalf("remote hit: %v allocs", n)
	}
	// A kid the issuer removed is refused from memory, without allocating.
	rs.srv.set(jwks(t, jwk(t, signer(t, engine.ES256, "remote-next"))))
	if err := rs.s.Refresh(context.Background(), testIssuer); err != nil {
		t.Fatal(err)
	}
	before = rs.srv.requests.Load()
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := rs.s.LookupKey(nil, rs.kid, engine.ES256); !errors.Is(err, engine.ErrKeyRemoved) {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("removed kid: %v allocs", n)
	}
	if rs.srv.requests.Load() != before {
		t.Fatal("removed kids fetched")
	}
}

func BenchmarkLookupHit(b *testing.B) {
	f := newLookupFixture(b)
	iss, kid := []byte("https://b.example"), []byte("shared")
	b.ReportAllocs()
	for b.Loop() {
		f.s.LookupKey(iss, kid, engine.RS256)
	}
}

func BenchmarkLookupHitParallel(b *testing.B) {
	f := newLookupFixture(b)
	iss, kid := []byte("https://b.example"), []byte("shared")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.s.LookupKey(iss, kid, engine.RS256)
		}
	})
}

// realClock makes a benchmark fixture read the system clock, as in production.
func realClock(_ *Issuer, o *Options) { o.Clock = engine.SystemClock }

func BenchmarkLookupNegativeHit(b *testing.B) {
	rs := newRemoteFixture(b, realClock)
	kid := []byte("bogus-kid")
	rs.s.LookupKey(nil, kid, engine.ES256)
	b.ReportAllocs()
	for b.Loop() {
		rs.s.LookupKey(nil, kid, engine.ES256)
	}
}

func BenchmarkLookupNegativeHitParallel(b *testing.B) {
	rs := newRemoteFixture(b, realClock)
	kid := []byte("bogus-kid")
	rs.s.LookupKey(nil, kid, engine.ES256)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rs.s.LookupKey(nil, kid, engine.ES256)
		}
	})
}
