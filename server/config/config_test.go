package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

const minimal = `
issuers:
  - issuer: https://issuer.example
    jwks_url: https://issuer.example/jwks.json
    audiences: [api://gateway]
`

func TestParseMinimalAppliesDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != config.DefaultListen || cfg.Realm != config.DefaultRealm {
		t.Errorf("listen %q realm %q", cfg.Listen, cfg.Realm)
	}
	if cfg.Limits.MaxTokenBytes != engine.DefaultMaxTokenSize || cfg.Limits.ReadTimeout != config.DefaultReadTimeout {
		t.Errorf("limits %+v", cfg.Limits)
	}
	if *cfg.Cache.Entries != engine.DefaultCacheEntries {
		t.Errorf("cache entries %d", *cfg.Cache.Entries)
	}
	if len(cfg.Identity.Headers) != 3 || cfg.Identity.Headers[0].Header != "X-Auth-Subject" {
		t.Errorf("identity %+v", cfg.Identity.Headers)
	}
	if !cfg.Tokens.AuthorizationEnabled() {
		t.Error("authorization off by default")
	}
	if cfg.Issuers[0].Leeway == nil || *cfg.Issuers[0].Leeway != engine.DefaultLeeway {
		t.Errorf("leeway %v, want the default filled in", cfg.Issuers[0].Leeway)
	}
	if *cfg.Limits.DrainPeriod != config.DefaultDrainPeriod || cfg.Limits.FDHeadroom != config.DefaultFDHeadroom {
		t.Errorf("drain period %v, fd headroom %d", *cfg.Limits.DrainPeriod, cfg.Limits.FDHeadroom)
	}
}

// TestDrainPeriodZero: drain_period 0s means no drain, not the default.
func TestDrainPeriodZero(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal + "limits:\n  drain_period: 0s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.Limits.DrainPeriod != 0 {
		t.Errorf("drain_period 0s became %v", *cfg.Limits.DrainPeriod)
	}
}

func TestParseFullSettings(t *testing.T) {
	cfg, err := config.Parse([]byte(`
listen: 0.0.0.0:9000
realm: api
issuers:
  - issuer: https://a.example
    jwks_file: /etc/jwks.json
    audiences: [x, y]
    all_audiences: true
    algorithms: [RS256, ES256]
    leeway: 0s
    typ: at+jwt
    required_claims: [sub]
    required_scopes: [read]
    max_age: 1h
    require_kid: true
    refresh_interval: 5m
    refresh_min: 1m
    refresh_max: 1h
    cooldown: 10s
    fetch_timeout: 2s
    max_jwks_bytes: 65536
  - issuer: https://b.example
    discovery: https://b.example
    any_audience: true
tokens:
  authorization: false
  header: X-Token
  header_prefix: "Token "
  cookie: session
  query: access_token
identity:
  headers: []
  payload_header: x-auth-payload
forward_auth:
  uri_header: x-original-uri
rules:
  - path: /admin
    methods: [POST]
    issuers: [https://a.example]
    scopes: [admin]
limits:
  max_token_bytes: 8192
cache:
  entries: 0
log:
  format: json
  level: debug
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuers[0].Leeway == nil || *cfg.Issuers[0].Leeway != 0 {
		t.Errorf("leeway %v: 0s must be kept as an explicit zero", cfg.Issuers[0].Leeway)
	}
	if cfg.Issuers[0].MaxAge != time.Hour || cfg.Issuers[0].Cooldown != 10*time.Second {
		t.Errorf("durations %+v", cfg.Issuers[0])
	}
	if cfg.Identity.Headers == nil || len(cfg.Identity.Headers) != 0 {
		t.Errorf("headers: [] must mean none, got %#v", cfg.Identity.Headers)
	}
	if h := cfg.Policy().IdentityHeaders(); len(h) != 1 || h[0] != "X-Auth-Payload" || cfg.ForwardAuth.URIHeader != "X-Original-Uri" {
		t.Errorf("canonical names %q %q", h, cfg.ForwardAuth.URIHeader)
	}
	if cfg.Tokens.AuthorizationEnabled() || *cfg.Cache.Entries != 0 {
		t.Error("explicit false/0 lost")
	}
	if cfg.Limits.MaxTokenBytes != 8192 {
		t.Error("max_token_bytes")
	}
}

// problem parses src and returns its only error, which must name line.
func problem(t *testing.T, src string, line int, contains string) {
	t.Helper()
	_, err := config.Parse([]byte(src))
	if err == nil {
		t.Fatalf("accepted:\n%s", src)
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not a *config.Error: %v", err, err)
	}
	if ce.Line != line {
		t.Errorf("line %d, want %d: %v", ce.Line, line, err)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("error %q does not mention %q", err, contains)
	}
	if strings.Contains(err.Error(), "\n") && !strings.Contains(contains, "\n") && len(multi(err)) == 1 {
		t.Errorf("error spans lines: %q", err)
	}
}

func multi(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestParseRejectsWithLine(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		contains  string
	}{
		{"unknown top key", "listen: 1.2.3.4:80\nlisen: x\n", 2, "lisen"},
		{"unknown issuer key", minimal + "    audience: [x]\n", 6, "audience"},
		{"wrong type", "listen: [a]\n", 1, "listen: must be a string"},
		{"duration as number", minimal + "    leeway: 30\n", 6, "not a duration"},
		{"bad duration", minimal + "    cooldown: soon\n", 6, "soon"},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", 2, "listen"},
		{"not a mapping", "- a\n- b\n", 1, "mapping"},
		{"syntax", "issuers: [\n", 1, ""},
		{"no audience", "issuers:\n  - issuer: https://i\n    jwks_file: f\n", 2, "any_audience: true"},
		{"two key sources", "issuers:\n  - issuer: i\n    jwks_file: f\n    jwks_url: https://x/j\n    audiences: [a]\n", 2, "exactly one"},
		{"no key source", "issuers:\n  - issuer: i\n    audiences: [a]\n", 2, "key source"},
		{"bad url", "issuers:\n  - issuer: i\n    jwks_url: ftp://x/j\n    audiences: [a]\n", 3, "http or https"},
		{"bad alg", minimal + "    algorithms: [RS256, none]\n", 6, "\"none\""},
		{"template without tenants", "issuers:\n  - issuer: https://l.example/{tenantid}/v2.0\n    discovery: https://l.example/common/v2.0\n    audiences: [a]\n", 2, "any_tenant: true"},
		{"tenants and any_tenant", "issuers:\n  - issuer: https://l.example/{tenantid}/v2.0\n    discovery: https://l.example/common/v2.0\n    tenants: [a]\n    any_tenant: true\n    audiences: [a]\n", 5, "contradicts tenants"},
		{"tenants without template", minimal + "    tenants: [a]\n", 6, "need an issuer template"},
		{"bad tenant", "issuers:\n  - issuer: https://l.example/{tenantid}/v2.0\n    discovery: https://l.example/common/v2.0\n    tenants: [\"a/b\"]\n    audiences: [a]\n", 4, "not a GUID or domain"},
		{"template inside a segment", "issuers:\n  - issuer: https://l.example/t{tenantid}/v2.0\n    discovery: https://l.example/common/v2.0\n    any_tenant: true\n    audiences: [a]\n", 2, "whole path segment"},
		{"no issuer", "issuers:\n  - jwks_file: f\n    audiences: [a]\n", 2, "any_issuer"},
		{"any issuer with two", "issuers:\n  - any_issuer: true\n    jwks_file: f\n    audiences: [a]\n  - issuer: b\n    jwks_file: g\n    audiences: [a]\n", 2, "single issuer"},
		{"duplicate issuer", minimal + "  - issuer: https://issuer.example\n    jwks_file: f\n    audiences: [a]\n", 6, "already configured"},
		{"no issuers", "listen: 127.0.0.1:1\n", 0, "at least one issuer"},
		{"rule issuer unknown", minimal + "rules:\n  - path: /x\n    issuers: [https://other]\n", 8, "not a configured issuer"},
		{"rule path", minimal + "rules:\n  - path: admin\n", 7, "rules[0].path: path \"admin\" must start with /"},
		{"rule overlap", minimal + "rules:\n  - path: /a\n  - path: /a/\n", 8, "matches the same requests as rules[0]"},
		{"rules and routes", minimal + "routes:\n  - path: /a\nrules:\n  - path: /b\n", 9, "cannot both be set"},
		{"route issuer unknown", minimal + "routes:\n  - path: /x\n    issuers: [https://other]\n", 8, "not a configured issuer"},
		{"route regex", minimal + "routes:\n  - name: users\n    path: /users/[0-9]+\n", 8, "not regular expressions"},
		{"route unreachable", minimal + "routes:\n  - name: all\n  - name: admin\n    path: /admin/**\n", 8, "routes[0] (\"all\") comes first"},
		{"route access", minimal + "routes:\n  - path: /a\n    access: anonymous\n", 8, "required, optional or public"},
		{"unknown operator", minimal + "routes:\n  - path: /a\n    require:\n      - claim: roles\n        op: has\n        value: admin\n", 10, "use one of equals, one_of"},
		{"malformed claim path", minimal + "routes:\n  - path: /a\n    require:\n      - claim: realm_access..roles\n        op: exists\n", 9, "bracket the name"},
		{"nested condition", minimal + "routes:\n  - path: /a\n    require:\n      - any:\n          - claim: a\n            op: one_of\n            value: b\n", 12, "takes a list"},
		{"default route path", minimal + "default_route:\n  path: /x\n", 7, "no host, path, prefix or methods"},
		{"lower method", minimal + "rules:\n  - path: /a\n    methods: [get]\n", 8, "upper-case"},
		{"reserved identity", minimal + "identity:\n  headers:\n    - header: Authorization\n      claim: sub\n", 8, "cannot carry identity"},
		{"dup identity", minimal + "identity:\n  headers:\n    - header: X-A\n      claim: sub\n    - header: x_a\n      claim: iss\n", 10, "is the same header as identity.headers[0]"},
		{"header is authorization", minimal + "tokens:\n  header: authorization\n", 7, "authorization: false"},
		{"no token source", minimal + "tokens:\n  authorization: false\n", 7, "no token source"},
		{"small header cap", minimal + "limits:\n  max_header_bytes: 1000\n", 7, "max_token_bytes + 1024"},
		{"log format", minimal + "log:\n  format: xml\n", 7, "json"},
		{"realm quote", minimal + "realm: 'a\"b'\n", 6, "realm"},
		{"negative cache", minimal + "cache:\n  entries: -1\n", 7, "cache.entries"},
		{"bad listen", minimal + "listen: nowhere\n", 6, "host:port"},
		{"drain period as number", minimal + "limits:\n  drain_period: 5\n", 7, "not a duration"},
		{"negative drain period", minimal + "limits:\n  drain_period: -1s\n", 7, "drain_period"},
		{"negative fd headroom", minimal + "limits:\n  fd_headroom: -1\n", 7, "fd_headroom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { problem(t, c.src, c.line, c.contains) })
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := config.Parse([]byte("issuers:\n  - issuer: i\n    jwks_file: f\nlog:\n  level: loud\n"))
	errs := multi(err)
	if len(errs) != 2 {
		t.Fatalf("want 2 problems, got %d: %v", len(errs), err)
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwtgate.yaml")
	if err := os.WriteFile(path, []byte(minimal+"bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":6: ") {
		t.Fatalf("error %q does not start with the file and line", err)
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, config.MaxFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(big); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("oversized file: %v", err)
	}
}

func TestValidateIdempotent(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestApplyOverrides(t *testing.T) {
	t.Run("flags only", func(t *testing.T) {
		var cfg config.Config
		err := cfg.Apply(config.Overrides{JWKSURL: "https://i.example/jwks", Issuer: "https://i.example", Audiences: []string{"a"}, Listen: ":9"})
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		if cfg.Listen != ":9" || cfg.Issuers[0].JWKSURL != "https://i.example/jwks" {
			t.Errorf("%+v", cfg)
		}
	})
	t.Run("replace file source", func(t *testing.T) {
		cfg, err := config.Decode([]byte(minimal))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Apply(config.Overrides{JWKSFile: "/k.json", Audiences: []string{"b"}}); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		is := cfg.Issuers[0]
		if is.JWKSURL != "" || is.JWKSFile != "/k.json" || is.Issuer != "https://issuer.example" || is.Audiences[0] != "b" {
			t.Errorf("%+v", is)
		}
	})
	for _, c := range []struct {
		name, file string
		o          config.Overrides
		flag       string
	}{
		{"two sources", "", config.Overrides{JWKSURL: "https://x/j", JWKSFile: "f"}, "--jwks-url, --jwks-file"},
		{"no issuer", "", config.Overrides{JWKSFile: "f", Audiences: []string{"a"}}, "--issuer"},
		{"no audience", "", config.Overrides{JWKSFile: "f", Issuer: "i"}, "--audience"},
		{"issuer without source", "", config.Overrides{Issuer: "i"}, "key source"},
		{"bad url", "", config.Overrides{JWKSURL: "x"}, "--jwks-url"},
		{"several issuers", minimal + "  - issuer: b\n    jwks_file: f\n    audiences: [a]\n", config.Overrides{Issuer: "c"}, "single issuer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Decode([]byte(c.file))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Apply(c.o)
			if err == nil || !strings.Contains(err.Error(), c.flag) {
				t.Fatalf("error %v does not name %q", err, c.flag)
			}
		})
	}
}

// TestExampleConfig loads the commented example of the repository: it must
// stay valid and keep saying what it claims.
func TestExampleConfig(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "examples", "jwtgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Issuers) != 2 || cfg.Issuers[0].Discovery == "" || cfg.Issuers[1].JWKSURL == "" {
		t.Errorf("issuers %+v", cfg.Issuers)
	}
	if len(cfg.Routes) != 5 || cfg.Routes[2].Scopes[0] != "admin" || cfg.Routes[2].Require[0].Claim != "realm_access.roles" ||
		strings.Join(cfg.Policy().Routes(), ",") != "health,docs,admin,orders-write,partners,default" {
		t.Errorf("routes %+v", cfg.Routes)
	}
	if cfg.Listen != config.DefaultListen || cfg.Limits.MaxTokenBytes != engine.DefaultMaxTokenSize ||
		cfg.Limits.MaxHeaderBytes != config.DefaultMaxHeaderBytes || *cfg.Cache.Entries != engine.DefaultCacheEntries ||
		cfg.Cache.MaxBytes != engine.DefaultCacheBytes || cfg.Identity.MaxValueBytes != config.DefaultMaxValueBytes ||
		cfg.Limits.ShutdownTimeout != config.DefaultShutdownTimeout || *cfg.Issuers[0].Leeway != 30*time.Second ||
		*cfg.Limits.DrainPeriod != config.DefaultDrainPeriod || cfg.Limits.FDHeadroom != config.DefaultFDHeadroom ||
		cfg.Limits.IdleTimeout != config.DefaultIdleTimeout {
		t.Error("the example's values drifted from the defaults it documents")
	}
}

// TestRoutesFromYAML: the authorization settings read from YAML compile into
// the policy; rules become routes, longest prefix first.
func TestRoutesFromYAML(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal + `cors_preflight: true
routes:
  - name: health
    path: /healthz
    access: public
  - name: admin
    host: "*.example.com"
    path: /admin/**
    methods: [GET, POST]
    require:
      - claim: realm_access.roles
        op: contains
        value: admin
      - any:
          - claim: '["https://example.com/tenant"]'
            op: one_of
            value: [acme, 42, true]
          - claim: cognito:groups
            op: contains_all
            value: [ops]
default_route:
  access: optional
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Policy().Routes(), ","); got != "health,admin,default" {
		t.Errorf("routes %s", got)
	}
	if !cfg.CORSPreflight || cfg.Default.Access != "optional" || cfg.Routes[1].Require[1].Any[0].Value.([]any)[1] != uint64(42) {
		t.Errorf("settings %+v", cfg.Config)
	}

	legacy, err := config.Parse([]byte(minimal + "rules:\n  - path: /a\n  - path: /a/b\n  - path: /a/b\n    methods: [POST]\n  - path: /\n    scopes: [x]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(legacy.Policy().Routes(), ","); got != "POST /a/b,/a/b,/a,/,default" {
		t.Errorf("rules as routes: %s", got)
	}
}

// TestREADMERoutes: the route table README.md shows is a valid
// configuration, with its issuer configured.
func TestREADMERoutes(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sec := string(md)
	i := strings.Index(sec, "## Routes and rules")
	if i < 0 {
		t.Fatal("README.md has no Routes and rules section")
	}
	sec = sec[i:]
	a := strings.Index(sec, "```yaml\n")
	b := strings.Index(sec[a+8:], "```")
	block := sec[a+8 : a+8+b]
	cfg, err := config.Parse([]byte("issuers:\n  - issuer: https://sso.example.com/realms/acme\n    jwks_file: k.json\n    audiences: [api://admin]\n" + block))
	if err != nil {
		t.Fatalf("%v\n%s", err, block)
	}
	if got := strings.Join(cfg.Policy().Routes(), ","); got != "health,docs,reports,admin,default" {
		t.Errorf("routes %s", got)
	}
}
