package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// issuerSet is a Verifier of n issuers, each with a key set of its own.
type issuerSet struct {
	names   []string
	signers []*sign.Key
	clock   *fakeClock
	v       *engine.Verifier
}

func issuerName(i int) string { return fmt.Sprintf("https://issuer%d.example", i) }

func newIssuerSet(tb testing.TB, n, cacheEntries int) *issuerSet {
	tb.Helper()
	s := &issuerSet{clock: newFakeClock(epoch)}
	cfg := engine.Config{Clock: s.clock, CacheEntries: cacheEntries}
	for i := range n {
		signer := sign.MustGenerate(engine.HS256, fmt.Sprintf("k%d", i))
		k, err := signer.EngineKey()
		if err != nil {
			tb.Fatal(err)
		}
		s.names = append(s.names, issuerName(i))
		s.signers = append(s.signers, signer)
		cfg.Policies = append(cfg.Policies, engine.IssuerPolicy{
			Issuer: issuerName(i), Keys: &testKeys{keys: []*engine.Key{k}},
			Audiences: []string{testAudience}, RequiredScopes: []string{"read:orders"},
		})
	}
	var err error
	if s.v, err = engine.New(cfg); err != nil {
		tb.Fatal(err)
	}
	return s
}

// token returns a valid token of issuer i, signed with signer j's key.
func (s *issuerSet) token(tb testing.TB, i, j int, mod func(map[string]any)) string {
	tb.Helper()
	c := accessClaims()
	c["iss"] = s.names[i]
	if mod != nil {
		mod(c)
	}
	tok, err := s.signers[j].Sign(c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func TestIssuersPickPolicyByIss(t *testing.T) {
	s := newIssuerSet(t, 5, 0)
	var res engine.Token
	for round := range 2 { // the second round is answered by the one cache
		for i := range 5 {
			if err := s.v.VerifyString(s.token(t, i, i, nil), &res); err != nil {
				t.Fatalf("issuer %d: %v", i, err)
			}
			if got := res.PolicyIndex(); got != i {
				t.Errorf("issuer %d: PolicyIndex %d", i, got)
			}
			if res.FromCache() != (round == 1) {
				t.Errorf("issuer %d round %d: FromCache %v", i, round, res.FromCache())
			}
		}
	}
	if st := s.v.Cache().Stats(); st.Entries != 5 {
		t.Errorf("one cache holds %d entries, want the 5 issuers' tokens", st.Entries)
	}
	if got := len(s.v.Policies()); got != 5 {
		t.Errorf("Policies: %d", got)
	}
}

func TestIssuersRefuseAnotherIssuersKey(t *testing.T) {
	s := newIssuerSet(t, 3, -1)
	var res engine.Token
	// iss names issuer 0; kid and signature are issuer 1's.
	err := s.v.VerifyString(s.token(t, 0, 1, nil), &res)
	if !errors.Is(err, engine.ErrUnknownKid) {
		t.Fatalf("token of issuer 0 signed with issuer 1's key: %v, want unknown_kid", err)
	}
	if res.Claims.Issuer != nil || res.Key() != nil {
		t.Error("a refused token left claims or a key readable")
	}
	if got := res.PolicyIndex(); got != 0 {
		t.Errorf("PolicyIndex %d, want 0 (the issuer its iss chose)", got)
	}
}

func TestIssuersUnknownIssuer(t *testing.T) {
	s := newIssuerSet(t, 3, -1)
	var res engine.Token
	err := s.v.VerifyString(s.token(t, 0, 0, func(c map[string]any) { c["iss"] = "https://other.example" }), &res)
	if !errors.Is(err, engine.ErrUnknownIssuer) {
		t.Fatalf("unconfigured issuer: %v, want unknown_issuer", err)
	}
	if res.PolicyIndex() != -1 {
		t.Errorf("PolicyIndex %d, want -1", res.PolicyIndex())
	}
	// Each policy is its own: issuer 2 requires read:orders, so a token
	// without it is refused by that policy.
	err = s.v.VerifyString(s.token(t, 2, 2, func(c map[string]any) { c["scope"] = "openid" }), &res)
	if !errors.Is(err, engine.ErrScope) || res.PolicyIndex() != 2 {
		t.Fatalf("scope: %v, policy %d", err, res.PolicyIndex())
	}
}

func TestIssuersConfigErrors(t *testing.T) {
	keys := &testKeys{}
	for _, c := range []struct {
		name string
		cfg  engine.Config
		want string
	}{
		{"duplicate", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://a", AnyAudience: true}, {Issuer: "https://a", AnyAudience: true}}}, "listed twice"},
		{"any issuer among several", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{AnyIssuer: true, AnyAudience: true}, {Issuer: "https://a", AnyAudience: true}}}, "must be the only one"},
		{"no issuer", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{{AnyAudience: true}}}, "set Issuer"},
		{"no keys", engine.Config{Policies: []engine.IssuerPolicy{{Issuer: "https://a", AnyAudience: true}}}, "Keys is required"},
		{"both forms", engine.Config{Keys: keys, Audiences: []string{"x"}, Policies: []engine.IssuerPolicy{{Issuer: "https://a", AnyAudience: true}}}, "leave Config's policy fields empty"},
		{"template without tenants", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://login.example/{tenantid}/v2.0", AnyAudience: true}}}, "needs the allowed tenant IDs"},
		{"template with both", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://login.example/{tenantid}/v2.0", Tenants: []string{"a"}, AnyTenant: true, AnyAudience: true}}}, "exclusive"},
		{"template inside a segment", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://login.example/t-{tenantid}/v2.0", AnyTenant: true, AnyAudience: true}}}, "whole path segment"},
		{"template in the host", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://{tenantid}.example/v2.0", AnyTenant: true, AnyAudience: true}}}, "whole path segment"},
		{"template twice", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://l.example/{tenantid}/{tenantid}", AnyTenant: true, AnyAudience: true}}}, "once"},
		{"misspelled placeholder", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://l.example/{tenantId}/v2.0", AnyTenant: true, AnyAudience: true}}}, "spelled {tenantid}"},
		{"bad tenant", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://l.example/{tenantid}/v2.0", Tenants: []string{"a/b"}, AnyAudience: true}}}, "not a GUID"},
		{"tenants without template", engine.Config{Keys: keys, Policies: []engine.IssuerPolicy{
			{Issuer: "https://l.example/v2.0", Tenants: []string{"a"}, AnyAudience: true}}}, "need an issuer template"},
		{"template in the single form", engine.Config{Keys: keys, Issuers: []string{"https://l.example/{tenantid}/v2.0"}, AnyAudience: true}, "needs Config.Policies"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := engine.New(c.cfg)
			if !errors.Is(err, engine.ErrConfig) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want ErrConfig mentioning %q", err, c.want)
			}
		})
	}
}

const (
	entraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"
	tenantA       = "9188040d-6c67-4c5b-b112-36a304b66dad"
	tenantB       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

func entraIssuer(tenant string) string {
	return strings.Replace(entraTemplate, "{tenantid}", tenant, 1)
}

// newTenantVerifier trusts the Entra template for tenants (nil: any
// tenant) beside an ordinary issuer, keys shared by every tenant.
func newTenantVerifier(t *testing.T, tenants []string) (*engine.Verifier, *sign.Key, *sign.Key) {
	t.Helper()
	entra := sign.MustGenerate(engine.HS256, "entra-k1")
	other := sign.MustGenerate(engine.HS256, "other-k1")
	ek, _ := entra.EngineKey()
	ok, _ := other.EngineKey()
	v, err := engine.New(engine.Config{Clock: newFakeClock(epoch), Policies: []engine.IssuerPolicy{
		{Issuer: testIssuer, Keys: &testKeys{keys: []*engine.Key{ok}}, Audiences: []string{testAudience}},
		{Issuer: entraTemplate, Tenants: tenants, AnyTenant: tenants == nil, Keys: &testKeys{keys: []*engine.Key{ek}}, Audiences: []string{testAudience}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return v, entra, other
}

func TestTenantTemplate(t *testing.T) {
	v, entra, other := newTenantVerifier(t, []string{tenantA})
	tok := func(signer *sign.Key, iss string, tid any) string {
		c := accessClaims()
		c["iss"] = iss
		if tid != nil {
			c["tid"] = tid
		}
		s, err := signer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, c := range []struct {
		name  string
		token string
		want  error
		desc  string
	}{
		{"allowed tenant", tok(entra, entraIssuer(tenantA), tenantA), nil, ""},
		{"unlisted tenant", tok(entra, entraIssuer(tenantB), tenantB), engine.ErrIssuer, "not one of the tenants allowed"},
		{"iss tenant is not tid", tok(entra, entraIssuer(tenantA), tenantB), engine.ErrIssuer, "other than its tid"},
		{"no tid", tok(entra, entraIssuer(tenantA), nil), engine.ErrIssuer, "other than its tid"},
		{"tid not a string", tok(entra, entraIssuer(tenantA), 7), engine.ErrIssuer, "other than its tid"},
		{"tid escaped", tok(entra, entraIssuer(tenantA), nil) /* replaced below */, nil, ""},
		{"the template itself", tok(entra, entraTemplate, "{tenantid}"), engine.ErrUnknownIssuer, ""},
		{"empty tenant", tok(entra, entraIssuer(""), ""), engine.ErrUnknownIssuer, ""},
		{"slash in the tenant", tok(entra, entraIssuer(tenantA+"/x"), tenantA+"/x"), engine.ErrUnknownIssuer, ""},
		{"dot-dot tenant", tok(entra, entraIssuer(".."), ".."), engine.ErrUnknownIssuer, ""},
		{"dot-dot in a domain", tok(entra, entraIssuer("a..b"), "a..b"), engine.ErrUnknownIssuer, ""},
		{"percent in the tenant", tok(entra, entraIssuer("a%2Fb"), "a%2Fb"), engine.ErrUnknownIssuer, ""},
		{"query in the tenant", tok(entra, entraIssuer("a?b"), "a?b"), engine.ErrUnknownIssuer, ""},
		{"fragment in the tenant", tok(entra, entraIssuer("a#b"), "a#b"), engine.ErrUnknownIssuer, ""},
		{"the other issuer's key", tok(other, entraIssuer(tenantA), tenantA), engine.ErrUnknownKid, ""},
		{"the tenant key on the other issuer", tok(entra, testIssuer, tenantA), engine.ErrUnknownKid, ""},
		{"the other issuer", tok(other, testIssuer, nil), nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := c.token
			if c.name == "tid escaped" {
				// "tid":"\u0039188…": the same string, escaped, is not
				// taken for the tenant (compared as the issuer wrote it).
				payload := fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":%d,"tid":"\u0039%s"}`, entraIssuer(tenantA), testAudience, epoch.Unix()+60, tenantA[1:])
				s, err := entra.SignRaw([]byte(`{"alg":"HS256","kid":"entra-k1"}`), []byte(payload))
				if err != nil {
					t.Fatal(err)
				}
				token, c.want, c.desc = s, engine.ErrIssuer, "other than its tid"
			}
			var res engine.Token
			for range 2 {
				err := v.VerifyString(token, &res)
				if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
				if c.desc != "" && !strings.Contains(err.Error(), c.desc) {
					t.Errorf("description %q, want it to mention %q", err, c.desc)
				}
			}
		})
	}
}

func TestTenantTemplateAnyTenant(t *testing.T) {
	v, entra, _ := newTenantVerifier(t, nil)
	for _, tenant := range []string{tenantA, tenantB, "contoso.onmicrosoft.com"} {
		c := accessClaims()
		c["iss"], c["tid"] = entraIssuer(tenant), tenant
		tok, _ := entra.Sign(c)
		var res engine.Token
		if err := v.VerifyString(tok, &res); err != nil {
			t.Errorf("tenant %s: %v", tenant, err)
		} else if res.PolicyIndex() != 1 {
			t.Errorf("tenant %s: policy %d", tenant, res.PolicyIndex())
		}
	}
}

func TestTooLargeNamesTheSetting(t *testing.T) {
	f := newFixture(t, engine.HS256, func(c *engine.Config) {
		c.MaxTokenSize = 100
		c.MaxTokenSizeSetting = "limits.max_token_bytes"
	})
	tok := f.token(t, accessClaims())
	var res engine.Token
	err := f.v.VerifyString(tok, &res)
	if !errors.Is(err, engine.ErrTooLarge) || err.Error() != "token is over the 100-byte cap (limits.max_token_bytes raises it)" {
		t.Fatalf("got %v", err)
	}
	if !raceEnabled {
		if n := testing.AllocsPerRun(100, func() { _ = f.v.VerifyString(tok, &res) }); n != 0 {
			t.Errorf("refusing an oversized token allocates %.0f times", n)
		}
	}
}

func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range engine.Reasons() {
		if seen[r.Reason()] || errors.Unwrap(r) != nil {
			t.Errorf("reason %q listed twice or a refinement", r.Reason())
		}
		seen[r.Reason()] = true
	}
	for _, want := range []*engine.Error{engine.ErrMalformed, engine.ErrScope, engine.ErrUnknownIssuer, engine.ErrKeyRemoved} {
		if !seen[want.Reason()] {
			t.Errorf("Reasons lacks %q", want.Reason())
		}
	}
}

// TestIssuersAllocs: with 5 issuers as with 1, verifying allocates nothing
// (HS256: the primitive does not allocate either), cached and uncached.
func TestIssuersAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test checks them without it")
	}
	for _, n := range []int{1, 5} {
		for _, cache := range []int{-1, 0} {
			s := newIssuerSet(t, n, cache)
			tok := []byte(s.token(t, n-1, n-1, nil))
			var res engine.Token
			if err := s.v.Verify(tok, &res); err != nil {
				t.Fatal(err)
			}
			if got := testing.AllocsPerRun(100, func() {
				if err := s.v.Verify(tok, &res); err != nil {
					t.Fatal(err)
				}
			}); got != 0 {
				t.Errorf("%d issuers, cache %v: %.0f allocations per verify", n, cache == 0, got)
			}
		}
	}
}

// BenchmarkIssuers measures Verify with 1 and with 5 issuers (the token of
// the last one), uncached and cached.
func BenchmarkIssuers(b *testing.B) {
	for _, cached := range []bool{false, true} {
		for _, n := range []int{1, 5} {
			b.Run(fmt.Sprintf("cached=%v/issuers=%d", cached, n), func(b *testing.B) {
				entries := -1
				if cached {
					entries = 0
				}
				s := newIssuerSet(b, n, entries)
				tok := []byte(s.token(b, n-1, n-1, nil))
				var res engine.Token
				b.ReportAllocs()
				for b.Loop() {
					if err := s.v.Verify(tok, &res); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIssuersPick measures the one step of Verify whose work depends
// on the number of issuers: choosing the policy by "iss" (the cache path
// does not choose: its entry holds the policy).
func BenchmarkIssuersPick(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run(fmt.Sprintf("issuers=%d", n), func(b *testing.B) {
			s := newIssuerSet(b, n, -1)
			iss := []byte(issuerName(n - 1))
			b.ReportAllocs()
			for b.Loop() {
				if engine.PolicyFor(s.v, iss) != n-1 {
					b.Fatal("wrong policy")
				}
			}
		})
	}
}
