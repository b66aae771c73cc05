package jwtgatecaddy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/jwtgate/jwtgate/authz"
	jwtgatecaddy "github.com/jwtgate/jwtgate/caddy"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	cases := []struct {
		name, in string
		want     string // the handler as JSON
		err      string // a substring of the error
	}{
		{name: "inline issuer", in: `jwtgate {
			issuer https://id.example.com
			jwks_url https://id.example.com/jwks.json
			audience api api2
			audience web
			realm shop
		}`, want: `{"inline":{"realm":"shop","issuers":[{"issuer":"https://id.example.com","jwks_url":"https://id.example.com/jwks.json","audiences":["api","api2","web"]}]}}`},
		{name: "discovery, any audience", in: `jwtgate {
			discovery https://id.example.com
			any_audience
		}`, want: `{"inline":{"issuers":[{"discovery":"https://id.example.com","any_audience":true}]}}`},
		{name: "config file and requirements", in: `jwtgate {
			config /etc/jwtgate.yaml
			access optional
			scope read write
			require roles contains admin
			require email exists
			require groups one_of a b
			require tenant equals acme
		}`, want: `{"config":"/etc/jwtgate.yaml","access":"optional","scopes":["read","write"],"require":[{"claim":"roles","op":"contains","value":"admin"},{"claim":"email","op":"exists"},{"claim":"groups","op":"one_of","value":["a","b"]},{"claim":"tenant","op":"equals","value":"acme"}]}`},
		{name: "positional file", in: `jwtgate /etc/jwtgate.yaml`, err: "config <file>"},
		{name: "inline with config", in: "jwtgate {\nconfig a.yaml\nissuer x\n}", err: "cannot be used with config"},
		{name: "unknown setting", in: "jwtgate {\njwks https://x\n}", err: `unknown jwtgate setting "jwks"`},
		{name: "two issuers", in: "jwtgate {\nissuer a b\n}", err: "issuer takes exactly one argument"},
		{name: "no audience", in: "jwtgate {\naudience\n}", err: "audience takes at least one value"},
		{name: "any_audience arg", in: "jwtgate {\nany_audience yes\n}", err: "any_audience takes no argument"},
		{name: "no scope", in: "jwtgate {\nscope\n}", err: "scope takes at least one value"},
		{name: "require short", in: "jwtgate {\nrequire roles\n}", err: "give a claim path and an operator"},
		{name: "require op", in: "jwtgate {\nrequire roles has admin\n}", err: `unknown operator "has"`},
		{name: "require exists value", in: "jwtgate {\nrequire roles exists x\n}", err: "exists takes no value"},
		{name: "require contains two", in: "jwtgate {\nrequire roles contains a b\n}", err: "contains takes exactly one value"},
		{name: "require one_of none", in: "jwtgate {\nrequire roles one_of\n}", err: "one_of takes at least one value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h jwtgatecaddy.Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.in))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(&h)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func newContext(t *testing.T) caddy.Context {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

// jwksFile writes the JWKS of keys to a file and returns its path.
func jwksFile(t *testing.T, keys ...*signer) string {
	js := newJWKSServer(t, keys...)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, *js.doc.Load(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// inline returns an inline configuration of one issuer with keys in file.
func inline(file string, extra string) json.RawMessage {
	return json.RawMessage(`{"issuers":[{"issuer":"` + testIssuer + `","jwks_file":"` + file + `","audiences":["api"]` + extra + `}]}`)
}

func TestProvisionErrors(t *testing.T) {
	file := jwksFile(t, newSigner(t, "k1"))
	yamlPath := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(yamlPath, []byte("issuers:\n  - issuer: x\n    jwks_file: /nonexistent\n    audience: [api]\n"), 0o600)
	cases := []struct {
		name string
		h    *jwtgatecaddy.Handler
		err  string
		is   error
	}{
		{name: "nothing", h: &jwtgatecaddy.Handler{}, err: "no issuer: set config", is: jwtgatecaddy.ErrConfig},
		{name: "both", h: &jwtgatecaddy.Handler{ConfigFile: "x.yaml", Inline: inline(file, "")}, err: "both config and inline", is: jwtgatecaddy.ErrConfig},
		{name: "missing file", h: &jwtgatecaddy.Handler{ConfigFile: filepath.Join(t.TempDir(), "none.yaml")}, err: "none.yaml"},
		{name: "file typo", h: &jwtgatecaddy.Handler{ConfigFile: yamlPath}, err: "audience"},
		{name: "no audiences", h: &jwtgatecaddy.Handler{Inline: json.RawMessage(`{"issuers":[{"issuer":"x","jwks_file":"` + file + `"}]}`)}, err: "audiences"},
		{name: "bad access", h: &jwtgatecaddy.Handler{Inline: inline(file, ""), Access: "sometimes"}, err: "access", is: authz.ErrSetting},
		{name: "bad op", h: &jwtgatecaddy.Handler{Inline: inline(file, ""), Require: json.RawMessage(`[{"claim":"roles","op":"has","value":"x"}]`)}, err: "op", is: authz.ErrOperator},
		{name: "bad claim path", h: &jwtgatecaddy.Handler{Inline: inline(file, ""), Require: json.RawMessage(`[{"claim":"a..b","op":"exists"}]`)}, is: authz.ErrClaimPath},
		{name: "require not a list", h: &jwtgatecaddy.Handler{Inline: inline(file, ""), Require: json.RawMessage(`{"claim":"a"}`)}, err: "require:", is: jwtgatecaddy.ErrConfig},
		{name: "requirements with routes", h: &jwtgatecaddy.Handler{Inline: json.RawMessage(`{"issuers":[{"issuer":"x","jwks_file":"` + file + `","audiences":["api"]}],"routes":[{"path":"/a/**","access":"public"}]}`), Scopes: []string{"read"}},
			err: "cannot be combined with the configuration's routes", is: jwtgatecaddy.ErrConfig},
		{name: "bad route", h: &jwtgatecaddy.Handler{Inline: json.RawMessage(`{"issuers":[{"issuer":"x","jwks_file":"` + file + `","audiences":["api"]}],"routes":[{"path":"/a/(.*)"}]}`)},
			err: "routes[0].path"},
		{name: "unknown algorithm", h: &jwtgatecaddy.Handler{Inline: inline(file, `,"algorithms":["RS999"]`)}, err: "RS999"},
		{name: "unreadable keys", h: &jwtgatecaddy.Handler{Inline: inline(filepath.Join(t.TempDir(), "none.json"), "")}, err: "none.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.h
			err := h.Provision(newContext(t))
			if err == nil {
				h.Cleanup()
				t.Fatal("Provision succeeded")
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %q, want it to contain %q", err, c.err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if verr := h.Validate(); verr == nil {
				t.Error("Validate accepts a handler whose Provision failed")
			}
			if err := h.Cleanup(); err != nil {
				t.Errorf("Cleanup after a failed Provision: %v", err)
			}
		})
	}
}

// TestKeyStoresShared provisions handlers the way a reload does (new
// before old is cleaned up): handlers with the same issuers share one
// verifier (and token cache); an issuer's key source has one key store
// whatever handlers, policies and other issuers use it; each is closed
// only when the last holder lets go.
func TestKeyStoresShared(t *testing.T) {
	fileA, fileB := jwksFile(t, newSigner(t, "a")), jwksFile(t, newSigner(t, "b"))
	issuerA := `{"issuer":"` + testIssuer + `","jwks_file":"` + fileA + `","audiences":["api"]}`
	issuerB := `{"issuer":"https://b.example.com","jwks_file":"` + fileB + `","audiences":["api"]}`
	issuerA5 := `{"issuer":"` + testIssuer + `","jwks_file":"` + fileA + `","audiences":["api"],"leeway":"5s"}`
	doc := func(issuers ...string) json.RawMessage {
		return json.RawMessage(`{"issuers":[` + strings.Join(issuers, ",") + `]}`)
	}
	provision := func(h *jwtgatecaddy.Handler) *jwtgatecaddy.Handler {
		t.Helper()
		if err := h.Provision(newContext(t)); err != nil {
			t.Fatal(err)
		}
		if err := h.Validate(); err != nil {
			t.Fatal(err)
		}
		return h
	}
	old := provision(&jwtgatecaddy.Handler{Inline: doc(issuerA)})
	gated := provision(&jwtgatecaddy.Handler{Inline: doc(issuerA), Require: json.RawMessage(`[{"claim":"roles","op":"contains","value":"admin"}]`)})
	other := provision(&jwtgatecaddy.Handler{Inline: doc(issuerA5)})
	ab := provision(&jwtgatecaddy.Handler{Inline: doc(issuerA, issuerB)})
	ba := provision(&jwtgatecaddy.Handler{Inline: doc(issuerB, issuerA)})
	if !jwtgatecaddy.SameVerifier(old, gated) {
		t.Error("handlers with the same issuers have verifiers of their own")
	}
	if jwtgatecaddy.SameVerifier(old, other) {
		t.Error("handlers with different issuer policies share a verifier")
	}
	if !jwtgatecaddy.SameStore(old, 0, other, 0) {
		t.Error("issuers with one key source and different policies have key stores of their own")
	}
	if !jwtgatecaddy.SameStore(old, 0, ab, 0) || !jwtgatecaddy.SameStore(ab, 0, ba, 1) || !jwtgatecaddy.SameStore(ab, 1, ba, 0) {
		t.Error("an issuer listed with others, or in another order, has a key store of its own")
	}
	storeA := jwtgatecaddy.StoreKey(old, 0)
	// Verifiers holding A's store: old and gated's, other's, ab's, ba's.
	if n := jwtgatecaddy.StoreRefs(storeA); n != 4 {
		t.Errorf("%d references to a key store, want 4", n)
	}
	// A handler whose second issuer cannot load gives back its first.
	missing := `{"issuer":"https://c.example.com","jwks_file":"` + filepath.Join(t.TempDir(), "none.json") + `","audiences":["api"]}`
	if err := (&jwtgatecaddy.Handler{Inline: doc(issuerA, missing)}).Provision(newContext(t)); err == nil {
		t.Fatal("a handler with an unreadable key file was provisioned")
	}
	if n := jwtgatecaddy.StoreRefs(storeA); n != 4 {
		t.Errorf("%d references to a key store after a failed Provision, want 4", n)
	}
	// Reload: the new handler first, then the old ones go.
	next := provision(&jwtgatecaddy.Handler{Inline: doc(issuerA)})
	if !jwtgatecaddy.SameVerifier(old, next) {
		t.Error("a reload with the same issuers built a new verifier")
	}
	if n := jwtgatecaddy.VerifierRefs(next); n != 3 {
		t.Errorf("%d references to a verifier, want 3", n)
	}
	for _, h := range []*jwtgatecaddy.Handler{old, gated, other, ab, ba} {
		if err := h.Cleanup(); err != nil {
			t.Fatal(err)
		}
	}
	if n := jwtgatecaddy.VerifierRefs(next); n != 1 {
		t.Errorf("%d references to a verifier after the old handlers' cleanup, want 1", n)
	}
	if n := jwtgatecaddy.StoreRefs(storeA); n != 1 {
		t.Errorf("%d references to a key store after the old handlers' cleanup, want 1", n)
	}
	if err := next.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if n, m := jwtgatecaddy.VerifierRefs(next), jwtgatecaddy.StoreRefs(storeA); n != 0 || m != 0 {
		t.Errorf("%d, %d references to the verifier and the key store after the last cleanup, want 0", n, m)
	}
	if err := next.Cleanup(); err != nil {
		t.Errorf("a second Cleanup: %v", err)
	}
}

// serve runs one request through h with a Caddy replacer; next records the
// request and the placeholders it sees.
func serve(t *testing.T, h *jwtgatecaddy.Handler, r *http.Request, placeholders ...string) (*httptest.ResponseRecorder, *http.Request, map[string]string, *caddy.Replacer) {
	t.Helper()
	repl := caddy.NewReplacer()
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))
	rec := httptest.NewRecorder()
	var seen *http.Request
	got := map[string]string{}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		seen = r
		for _, p := range placeholders {
			got[p], _ = repl.GetString(p)
		}
		w.WriteHeader(204)
		return nil
	})
	if err := h.ServeHTTP(rec, r, next); err != nil {
		t.Fatal(err)
	}
	return rec, seen, got, repl
}

func TestServeHTTP(t *testing.T) {
	key := newSigner(t, "k1")
	h := &jwtgatecaddy.Handler{Inline: inline(jwksFile(t, key), "")}
	ctx := newContext(t)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Cleanup() })
	tok := key.token(t, map[string]any{"sub": "bob", "realm_access": map[string]any{"roles": []string{"a", "b"}},
		"https://example.com/tenant": "acme", "scp": []string{"x", "y"}})

	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header["X_auth_subject"] = []string{"evil"}
	r.Header["X.Auth.Issuer"] = []string{"evil"}
	r.Header.Set("X-Auth-Scope", "evil")
	r.Header.Set("X-Other", "kept")
	placeholders := []string{"http.auth.user.id", "http.auth.jwtgate.issuer", "http.auth.jwtgate.route",
		"http.auth.jwtgate.claim.realm_access.roles", `http.auth.jwtgate.claim.["https://example.com/tenant"]`,
		"http.auth.jwtgate.claim.missing", "http.auth.jwtgate.claim.a..b"}
	rec, seen, got, repl := serve(t, h, r, placeholders...)
	if rec.Code != 204 || seen == nil {
		t.Fatalf("status %d; next called: %v", rec.Code, seen != nil)
	}
	want := map[string]string{"http.auth.user.id": "bob", "http.auth.jwtgate.issuer": testIssuer, "http.auth.jwtgate.route": "default",
		"http.auth.jwtgate.claim.realm_access.roles": "a,b", `http.auth.jwtgate.claim.["https://example.com/tenant"]`: "acme",
		"http.auth.jwtgate.claim.missing": "", "http.auth.jwtgate.claim.a..b": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("{%s} = %q, want %q", k, got[k], v)
		}
	}
	wantHdr := http.Header{"Authorization": {"Bearer " + tok}, "X-Other": {"kept"},
		"X-Auth-Subject": {"bob"}, "X-Auth-Issuer": {testIssuer}, "X-Auth-Scope": {"x y"}}
	if len(seen.Header) != len(wantHdr) {
		t.Errorf("next got headers %v, want %v", seen.Header, wantHdr)
	}
	for k, v := range wantHdr {
		if g := seen.Header[k]; len(g) != 1 || g[0] != v[0] {
			t.Errorf("next got %s: %q, want %q", k, g, v)
		}
	}
	// Once the handler has returned, its request memory is reused: the
	// claim placeholders are gone, the copied ones stay.
	if v, ok := repl.GetString("http.auth.jwtgate.claim.sub"); ok || v != "" {
		t.Errorf("a claim placeholder after ServeHTTP returned: %q, %v", v, ok)
	}
	if v, _ := repl.GetString("http.auth.user.id"); v != "bob" {
		t.Errorf("{http.auth.user.id} after ServeHTTP returned: %q", v)
	}

	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			name, auth, challenge string
			status                int
		}{
			{"no token", "", `Bearer realm="jwtgate"`, 401},
			{"garbage", "Bearer x.y.z", `Bearer realm="jwtgate", error="invalid_token", error_description=`, 401},
			{"two tokens", "Bearer " + tok + ", Bearer " + tok, `Bearer realm="jwtgate", error="invalid_token"`, 401},
		} {
			r := httptest.NewRequest("GET", "/orders", nil)
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			rec, seen, _, repl := serve(t, h, r)
			if seen != nil {
				t.Errorf("%s: next was called", c.name)
			}
			if rec.Code != c.status || !strings.Contains(rec.Header().Get("Www-Authenticate"), c.challenge) {
				t.Errorf("%s: %d %q, want %d %q", c.name, rec.Code, rec.Header().Get("Www-Authenticate"), c.status, c.challenge)
			}
			if !strings.HasPrefix(rec.Body.String(), `{`) || !strings.Contains(rec.Body.String(), `"reason":`) {
				t.Errorf("%s: body %q", c.name, rec.Body)
			}
			if v, ok := repl.GetString("http.auth.user.id"); ok {
				t.Errorf("%s: {http.auth.user.id} = %q on a refusal", c.name, v)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		mfs, err := ctx.GetMetricsRegistry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "jwtgate_caddy_decisions_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				var k []string
				for _, l := range m.GetLabel() {
					k = append(k, l.GetName()+"="+l.GetValue())
				}
				got[strings.Join(k, ",")] = m.GetCounter().GetValue()
			}
		}
		want := map[string]float64{"reason=allowed,status=200": 1, "reason=no_token,status=401": 1, "reason=malformed,status=401": 2}
		if len(got) != len(want) {
			t.Errorf("decisions %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("decisions{%s} = %v, want %v", k, got[k], v)
			}
		}
	})
}

// TestServeHTTPPath checks that rules see the path the upstream gets,
// and that an ambiguous one is refused.
func TestServeHTTPPath(t *testing.T) {
	key := newSigner(t, "k1")
	file := jwksFile(t, key)
	yamlPath := filepath.Join(t.TempDir(), "jwtgate.yaml")
	os.WriteFile(yamlPath, []byte("issuers:\n  - issuer: "+testIssuer+"\n    jwks_file: "+file+"\n    audiences: [api]\nrules:\n  - path: /admin\n    scopes: [admin]\n"), 0o600)
	h := &jwtgatecaddy.Handler{ConfigFile: yamlPath}
	if err := h.Provision(newContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Cleanup() })
	tok := key.token(t, map[string]any{"scope": "read"})
	for _, c := range []struct {
		target string
		status int
	}{
		{"/orders", 204},
		{"/admin", 403},
		{"/x/../admin/users", 403},
		{"//admin", 403},
		{"/%61dmin", 403},
		{"/admin%2fusers", 403},
		{"/administrator", 204},
	} {
		r := httptest.NewRequest("GET", c.target, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		rec, _, _, _ := serve(t, h, r)
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d", c.target, rec.Code, c.status)
		}
	}
}

// TestServeHTTPIdentityNames checks configured identity headers whatever
// the case they are configured in, and the removal of their look-alikes.
func TestServeHTTPIdentityNames(t *testing.T) {
	key := newSigner(t, "k1")
	file := jwksFile(t, key)
	h := &jwtgatecaddy.Handler{Inline: json.RawMessage(`{"issuers":[{"issuer":"` + testIssuer + `","jwks_file":"` + file + `","audiences":["api"]}],
		"identity":{"headers":[{"header":"x-user-roles","claim":"realm_access.roles","separator":" "}]}}`)}
	if err := h.Provision(newContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Cleanup() })
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+key.token(t, map[string]any{"realm_access": map[string]any{"roles": []string{"a", "b"}}}))
	r.Header["X_user_roles"] = []string{"evil"}
	r.Header["X-User.Roles"] = []string{"evil"}
	r.Header.Set("X-Auth-Subject", "not an identity header here")
	_, seen, _, _ := serve(t, h, r)
	if seen == nil {
		t.Fatal("refused")
	}
	if got := seen.Header.Values("X-User-Roles"); len(got) != 1 || got[0] != "a b" {
		t.Errorf("X-User-Roles %q, want [a b]", got)
	}
	for k, v := range seen.Header {
		if v[0] == "evil" {
			t.Errorf("the client's %s reached the next handler", k)
		}
	}
	if got := seen.Header.Get("X-Auth-Subject"); got != "not an identity header here" {
		t.Errorf("X-Auth-Subject %q: a header that is not configured was touched", got)
	}
}

// TestServeHTTPRoutes checks a configuration's route table: a role-gated
// route, a public route, the default.
func TestServeHTTPRoutes(t *testing.T) {
	key := newSigner(t, "k1")
	h := &jwtgatecaddy.Handler{Inline: json.RawMessage(`{"issuers":[{"issuer":"` + testIssuer + `","jwks_file":"` + jwksFile(t, key) + `","audiences":["api"]}],
		"routes":[{"name":"admin","path":"/admin/**","require":[{"claim":"roles","op":"contains","value":"admin"}]},
		          {"name":"public","path":"/public/**","access":"public"}]}`)}
	if err := h.Provision(newContext(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Cleanup() })
	user, admin := key.token(t, nil), key.token(t, map[string]any{"roles": []string{"admin"}})
	for _, c := range []struct {
		target, token, route string
		status               int
	}{
		{"/public/doc", "", "public", 204},
		{"/admin/users", user, "", 403},
		{"/admin/users", "", "", 401},
		{"/admin/users", admin, "admin", 204},
		{"/%61dmin/users", user, "", 403},
		{"/orders", user, "default", 204},
		{"/orders", "", "", 401},
	} {
		r := httptest.NewRequest("GET", c.target, nil)
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec, _, got, _ := serve(t, h, r, "http.auth.jwtgate.route")
		if rec.Code != c.status {
			t.Errorf("%s: %d, want %d", c.target, rec.Code, c.status)
		}
		if c.status == 204 && got["http.auth.jwtgate.route"] != c.route {
			t.Errorf("%s: route %q, want %q", c.target, got["http.auth.jwtgate.route"], c.route)
		}
	}
}
