package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// FuzzTenantTemplate signs tokens with any iss and tid for a template that
// accepts any tenant: a token is accepted only when its iss is the template
// with its tid, one GUID-or-domain segment, in place of the placeholder.
func FuzzTenantTemplate(f *testing.F) {
	for _, s := range [][2]string{
		{entraIssuer(tenantA), tenantA},
		{entraIssuer("contoso.onmicrosoft.com"), "contoso.onmicrosoft.com"},
		{entraIssuer("a/b"), "a/b"},
		{entraIssuer(".."), ".."},
		{entraIssuer("a%2F"), "a%2F"},
		{entraIssuer(tenantA), tenantB},
		{entraTemplate, "{tenantid}"},
		{"https://login.microsoftonline.com//v2.0", ""},
	} {
		f.Add(s[0], s[1])
	}
	signer := sign.MustGenerate(engine.HS256, "k1")
	key, err := signer.EngineKey()
	if err != nil {
		f.Fatal(err)
	}
	v, err := engine.New(engine.Config{Clock: newFakeClock(epoch), CacheEntries: -1, Policies: []engine.IssuerPolicy{
		{Issuer: entraTemplate, AnyTenant: true, Keys: &testKeys{keys: []*engine.Key{key}}, AnyAudience: true},
		{Issuer: testIssuer, Keys: &testKeys{keys: []*engine.Key{key}}, AnyAudience: true},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, iss, tid string) {
		payload, err := json.Marshal(map[string]any{"iss": iss, "tid": tid, "exp": epoch.Unix() + 60})
		if err != nil {
			t.Skip()
		}
		tok, err := signer.SignRaw([]byte(`{"alg":"HS256","kid":"k1"}`), payload)
		if err != nil {
			t.Fatal(err)
		}
		var res engine.Token
		if v.VerifyString(tok, &res) != nil || res.PolicyIndex() != 0 {
			return
		}
		got := string(res.Claims.Issuer)
		if got != entraIssuer(tid) || tid == "" || strings.ContainsAny(tid, "/?#%{}") || strings.Contains(tid, "..") {
			t.Fatalf("accepted iss %q with tid %q", got, tid)
		}
	})
}
