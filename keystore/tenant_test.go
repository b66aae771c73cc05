package keystore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

const (
	entraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"
	tenantAllowed = "9188040d-6c67-4c5b-b112-36a304b66dad"
	tenantOther   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

// entraServer serves, on loopback, what Microsoft Entra ID's common
// endpoint serves: a discovery document whose issuer is the tenant template
// itself, and one JWKS for every tenant.
func entraServer(t *testing.T, keys ...*sign.Key) *httptest.Server {
	t.Helper()
	var list []any
	for _, k := range keys {
		list = append(list, jwk(t, k))
	}
	body := jwks(t, list...)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/common/v2.0" + wellKnown:
			fmt.Fprintf(w, `{"token_endpoint":"https://login.microsoftonline.com/common/oauth2/v2.0/token",`+
				`"jwks_uri":%q,"response_types_supported":["code","id_token"],`+
				`"issuer":%q,"tenant_region_scope":null,"cloud_instance_name":"microsoftonline.com"}`,
				srv.URL+"/common/discovery/v2.0/keys", entraTemplate)
		case "/common/discovery/v2.0/keys":
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTenantTemplateDiscovery: a store with the Entra tenant template
// (discovery document naming the template) beside an ordinary issuer, and
// a verifier whose policies hold each issuer's KeySet.
func TestTenantTemplateDiscovery(t *testing.T) {
	entraKey := signer(t, engine.RS256, "entra-1")
	otherKey := signer(t, engine.ES256, "other-1")
	srv := entraServer(t, entraKey)
	other := jwks(t, jwk(t, otherKey))
	clock := newFakeClock()
	s, err := New(Options{Clock: clock, Logger: (&logBuffer{}).logger()},
		Issuer{Issuer: entraTemplate, Discovery: srv.URL + "/common/v2.0", FetchTimeout: 5 * time.Second},
		Issuer{Issuer: testIssuer, JWKS: other},
	)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.Ready() {
		t.Fatalf("not ready: %+v", s.Issuers())
	}
	entraKeys, ok1 := s.KeySet(entraTemplate)
	otherKeys, ok2 := s.KeySet(testIssuer)
	if _, ok := s.KeySet("https://nobody.example"); !ok1 || !ok2 || ok {
		t.Fatal("KeySet")
	}
	v, err := engine.New(engine.Config{Clock: clock, CacheEntries: -1, Policies: []engine.IssuerPolicy{
		{Issuer: entraTemplate, Tenants: []string{tenantAllowed}, Keys: entraKeys, Audiences: []string{testAudience}},
		{Issuer: testIssuer, Keys: otherKeys, Audiences: []string{testAudience}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tok := func(k *sign.Key, iss, tid string) []byte {
		claims := map[string]any{"iss": iss, "aud": testAudience, "exp": epoch.Add(time.Hour).Unix(), "tid": tid}
		s, err := k.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(s)
	}
	issuerOf := func(tenant string) string { return strings.Replace(entraTemplate, "{tenantid}", tenant, 1) }
	for _, c := range []struct {
		name  string
		token []byte
		want  error
	}{
		{"allowed tenant", tok(entraKey, issuerOf(tenantAllowed), tenantAllowed), nil},
		{"unlisted tenant", tok(entraKey, issuerOf(tenantOther), tenantOther), engine.ErrIssuer},
		{"iss tenant is not tid", tok(entraKey, issuerOf(tenantAllowed), tenantOther), engine.ErrIssuer},
		{"the template as iss", tok(entraKey, entraTemplate, "{tenantid}"), engine.ErrUnknownIssuer},
		{"the other issuer", tok(otherKey, testIssuer, ""), nil},
		// iss names the other issuer, kid and signature are Entra's: the
		// kid is looked up only in the other issuer's keys.
		{"other issuer, Entra's key", tok(entraKey, testIssuer, ""), engine.ErrUnknownKid},
		{"Entra tenant, the other issuer's key", tok(otherKey, issuerOf(tenantAllowed), tenantAllowed), engine.ErrUnknownKid},
	} {
		var res engine.Token
		err := v.Verify(c.token, &res)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// The store routes a tenant's iss to the template's keys too.
	if k, err := s.LookupKey([]byte(issuerOf(tenantOther)), []byte("entra-1"), engine.RS256); err != nil || k.Kid() != "entra-1" {
		t.Errorf("LookupKey of a tenant: %v, %v", k, err)
	}
	if _, err := s.LookupKey([]byte("https://login.microsoftonline.com/v2.0"), []byte("entra-1"), engine.RS256); !errors.Is(err, engine.ErrUnknownIssuer) {
		t.Errorf("LookupKey of the template's bare prefix and suffix: %v", err)
	}
}
