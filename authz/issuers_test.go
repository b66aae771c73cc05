package authz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// Access tokens shaped like those of real issuers (claims trimmed to what
// rules test), each with a rule that passes and one that fails.
const (
	keycloakToken = `{"exp":1764072000,"iat":1764071700,"jti":"0b1e","iss":"https://sso.example.com/realms/acme",` +
		`"aud":["orders-api","account"],"sub":"f1c4","typ":"Bearer","azp":"orders-spa","sid":"9a7c",` +
		`"realm_access":{"roles":["offline_access","default-roles-acme","uma_authorization","order-admin"]},` +
		`"resource_access":{"orders-api":{"roles":["orders:write","orders:read"]},"account":{"roles":["manage-account"]}},` +
		`"scope":"openid profile email","email_verified":true,"preferred_username":"alice"}`
	entraToken = `{"aud":"api://7f3e-orders","iss":"https://login.microsoftonline.com/72f9/v2.0","iat":1764071700,` +
		`"nbf":1764071700,"exp":1764075600,"aio":"AXQAi","azp":"c0ffee00-1111-2222-3333-444455556666","azpacr":"0",` +
		`"groups":["e2b4c1d0-0000-4000-8000-000000000001","e2b4c1d0-0000-4000-8000-000000000002"],` +
		`"name":"Alice","oid":"a11ce","preferred_username":"alice@contoso.com","rh":"0.AR8A",` +
		`"roles":["Orders.Admin","Orders.Read"],"scp":"Orders.Read Orders.Write User.Read","sub":"Xk3","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","uti":"u1","ver":"2.0"}`
	auth0Token = `{"https://acme.example/roles":["admin","billing"],"https://acme.example/tenant":{"id":"t-9","plan":"pro"},` +
		`"iss":"https://acme.eu.auth0.com/","sub":"auth0|6123","aud":["https://api.acme.example","https://acme.eu.auth0.com/userinfo"],` +
		`"iat":1764071700,"exp":1764158100,"scope":"openid profile read:orders","azp":"Yx2","permissions":["read:orders","write:orders"]}`
	oktaToken = `{"ver":1,"jti":"AT.q1","iss":"https://acme.okta.com/oauth2/default","aud":"api://default","iat":1764071700,` +
		`"exp":1764075300,"cid":"0oa1b2c3d4","uid":"00u1","scp":["openid","orders.read","orders.write"],"auth_time":1764071600,` +
		`"sub":"alice@acme.example","groups":["Everyone","Order Admins"]}`
	cognitoToken = `{"sub":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","cognito:groups":["admins","eu-west-1_Ab_Google"],` +
		`"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab","version":2,"client_id":"3n4b5urk1ft4fl3mg5e62d9ado",` +
		`"origin_jti":"o1","event_id":"e1","token_use":"access","scope":"aws.cognito.signin.user.admin orders/read",` +
		`"auth_time":1764071700,"exp":1764075300,"iat":1764071700,"jti":"j1","username":"alice"}`
)

func TestIssuerShapes(t *testing.T) {
	cases := []struct {
		issuer, payload string
		pass, fail      []Condition
	}{
		{"keycloak", keycloakToken,
			[]Condition{
				{Claim: "realm_access.roles", Op: OpContains, Value: "order-admin"},
				{Claim: "resource_access.orders-api.roles", Op: OpContainsAll, Value: []any{"orders:read", "orders:write"}},
				{Claim: "azp", Op: OpEquals, Value: "orders-spa"},
				{Claim: "email_verified", Op: OpEquals, Value: true},
			},
			[]Condition{
				{Claim: "resource_access.account.roles", Op: OpContains, Value: "orders:write"},
				{Claim: `resource_access["orders-api"].roles`, Op: OpContains, Value: "order-admin"},
				{Claim: "azp", Op: OpEquals, Value: "other-client"},
				{Claim: "email_verified", Op: OpEquals, Value: "true"},
			}},
		{"entra", entraToken,
			[]Condition{
				{Claim: "roles", Op: OpContains, Value: "Orders.Admin"},
				{Claim: "scp", Op: OpContainsAll, Value: []any{"Orders.Read", "Orders.Write"}},
				{Claim: "groups", Op: OpContainsAny, Value: []any{"e2b4c1d0-0000-4000-8000-000000000002", "x"}},
				{Claim: "tid", Op: OpEquals, Value: "72f988bf-86f1-41af-91ab-2d7cd011db47"},
				{Claim: "azp", Op: OpOneOf, Value: []any{"c0ffee00-1111-2222-3333-444455556666"}},
			},
			[]Condition{
				{Claim: "roles", Op: OpContains, Value: "Orders.Write"},
				{Claim: "scp", Op: OpContains, Value: "Orders"},
				{Claim: "tid", Op: OpEquals, Value: "other-tenant"},
				{Claim: "wids", Op: OpExists},
			}},
		{"auth0", auth0Token,
			[]Condition{
				{Claim: "permissions", Op: OpContains, Value: "write:orders"},
				{Claim: `["https://acme.example/roles"]`, Op: OpContains, Value: "admin"},
				{Claim: `https://acme\.example/tenant.plan`, Op: OpEquals, Value: "pro"},
				{Claim: "sub", Op: OpPrefix, Value: "auth0|"},
			},
			[]Condition{
				{Claim: "permissions", Op: OpContains, Value: "delete:orders"},
				{Claim: `["https://acme.example/roles"]`, Op: OpContains, Value: "owner"},
				{Claim: "https://acme.example/roles", Op: OpContains, Value: "admin"}, // unescaped dots: a nested path
				{Claim: "sub", Op: OpPrefix, Value: "google-oauth2|"},
			}},
		{"okta", oktaToken,
			[]Condition{
				{Claim: "groups", Op: OpContains, Value: "Order Admins"},
				{Claim: "scp", Op: OpContains, Value: "orders.write"},
				{Claim: "cid", Op: OpEquals, Value: "0oa1b2c3d4"},
				{Claim: "ver", Op: OpEquals, Value: 1},
			},
			[]Condition{
				{Claim: "groups", Op: OpContains, Value: "Order"},
				{Claim: "scp", Op: OpContains, Value: "orders.delete"},
				{Claim: "ver", Op: OpEquals, Value: "1"},
			}},
		{"cognito", cognitoToken,
			[]Condition{
				{Claim: "cognito:groups", Op: OpContains, Value: "admins"},
				{Claim: `["cognito:groups"]`, Op: OpContainsAny, Value: []any{"admins", "ops"}},
				{Claim: "client_id", Op: OpEquals, Value: "3n4b5urk1ft4fl3mg5e62d9ado"},
				{Claim: "token_use", Op: OpEquals, Value: "access"},
				{Claim: "scope", Op: OpContains, Value: "orders/read"},
			},
			[]Condition{
				{Claim: "cognito:groups", Op: OpContains, Value: "ops"},
				{Claim: "token_use", Op: OpEquals, Value: "id"},
				{Claim: "client_id", Op: OpEquals, Value: "someone-else"},
			}},
	}
	var st State
	for _, c := range cases {
		tok := scanned(t, c.payload)
		pass := mustCompile(t, &Config{Routes: []Route{{Name: c.issuer, Require: c.pass}}})
		if d := pass.Check(req("GET", "h", "/", nil), tok, nil, &st); !d.Allowed {
			t.Errorf("%s: the passing rule failed: %s", c.issuer, d.Denial.Condition())
		}
		for i, cond := range c.fail {
			fail := mustCompile(t, &Config{Routes: []Route{{Name: c.issuer, Require: []Condition{cond}}}})
			if d := fail.Check(req("GET", "h", "/", nil), tok, nil, &st); d.Allowed {
				t.Errorf("%s: failing condition %d (%s %s %v) passed", c.issuer, i, cond.Claim, cond.Op, cond.Value)
			}
		}
	}
}

// TestREADMEIssuerRules: the rules README.md shows for each issuer hold on
// that issuer's token, and on no other issuer's.
func TestREADMEIssuerRules(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sec := string(md)
	i := strings.Index(sec, "### Rules for real issuers' access tokens")
	if i < 0 {
		t.Fatal("README.md has no section on real issuers' tokens")
	}
	sec = sec[i:]
	sec = sec[:strings.Index(sec[4:], "\n### ")+4]
	var blocks []string
	for {
		a := strings.Index(sec, "```yaml\n")
		if a < 0 {
			break
		}
		sec = sec[a+len("```yaml\n"):]
		b := strings.Index(sec, "```")
		blocks = append(blocks, sec[:b])
		sec = sec[b+3:]
	}
	tokens := []string{keycloakToken, entraToken, auth0Token, oktaToken, cognitoToken}
	if len(blocks) != len(tokens) {
		t.Fatalf("%d rule blocks in README.md, want %d (Keycloak, Entra ID, Auth0, Okta, Cognito)", len(blocks), len(tokens))
	}
	var st State
	for i, block := range blocks {
		var route Route
		if err := yaml.UnmarshalWithOptions([]byte(block), &route, yaml.Strict()); err != nil {
			t.Fatalf("block %d: %v\n%s", i, err, block)
		}
		pol := mustCompile(t, &Config{Routes: []Route{route}})
		for j, payload := range tokens {
			d := pol.Check(req("GET", "h", "/", nil), scanned(t, payload), nil, &st)
			if d.Allowed != (i == j) {
				t.Errorf("README rule block %d on token %d: allowed %v", i, j, d.Allowed)
			}
		}
	}
}
