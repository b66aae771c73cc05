package fuzz

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// FuzzParseConfig feeds arbitrary bytes to the server's YAML configuration
// parser. It must never panic; a rejection is one or more *config.Error,
// each one line naming what is wrong; an accepted configuration validates
// again unchanged and builds a server (which does no I/O before Start).
func FuzzParseConfig(f *testing.F) {
	if example, err := os.ReadFile(filepath.Join("..", "examples", "jwtgate.yaml")); err == nil {
		f.Add(example)
	} else {
		f.Fatal(err)
	}
	for _, s := range []string{
		"",
		"issuers:\n  - issuer: https://i\n    jwks_file: /k.json\n    audiences: [a]\n",
		"issuers:\n  - any_issuer: true\n    jwks_url: http://127.0.0.1:1/jwks\n    any_audience: true\n",
		"issuers:\n  - issuer: i\n    pem_files: [a.pem]\n    audiences: [a]\n    leeway: 0s\nrules:\n  - path: /x\n    methods: [GET]\n    scopes: [s]\n",
		"issuers:\n  - issuer: i\n    discovery: https://i/\n    audiences: [a]\nidentity:\n  headers: []\n  payload_header: X-P\ncache:\n  entries: 0\n",
		"listen: [1, 2]\n",
		"issuers: {a: 1}\n",
		"a: &x [*x]\n",
		"issuers:\n  - issuer: i\n    leeway: 30\n",
		"--- \n...\n---\nlisten: a\n",
		"limits:\n  max_token_bytes: 99999999999999999999999\n",
		"log: !!binary aGVsbG8=\n",
		"tokens:\n  authorization: false\n  header: X-T\n  header_prefix: 'T '\n",
		// Routes, access modes, preflight, claim conditions, identity from claim paths.
		"issuers:\n  - issuer: i\n    jwks_file: /k.json\n    audiences: [a]\ncors_preflight: true\nroutes:\n  - name: h\n    path: /healthz\n    access: public\n" +
			"  - name: a\n    host: '*.example.com'\n    path: /admin/*/x/**\n    methods: [GET]\n    issuers: [i]\n    scopes: [s]\n    require:\n" +
			"      - claim: realm_access.roles\n        op: contains\n        value: admin\n      - any:\n          - claim: '[\"https://e.com/r\"]'\n            op: one_of\n            value: [x, 5, true]\n" +
			"          - all:\n              - claim: cognito:groups\n                op: contains_all\n                value: [g]\n              - claim: a\\.b.c\n                op: exists\n" +
			"default_route:\n  access: optional\nidentity:\n  headers:\n    - header: X-Roles\n      claim: realm_access.roles\n      format: json\n",
		"issuers:\n  - issuer: i\n    jwks_file: /k.json\n    audiences: [a]\nroutes:\n  - {}\n  - path: /x\n",
		"issuers:\n  - issuer: i\n    jwks_file: /k.json\n    audiences: [a]\nroutes:\n  - path: /x\n    require:\n      - claim: a..b\n        op: equal\n        value: {k: v}\n",
		"issuers:\n  - issuer: i\n    jwks_file: /k.json\n    audiences: [a]\nroutes:\n  - prefix: /x\n    access: public\n    cors_preflight: false\nrules:\n  - path: /y\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data)
		if err != nil {
			checkConfigError(t, err)
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("an accepted configuration fails validation again: %v", err)
		}
		srv, err := server.New(cfg, server.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("an accepted configuration does not build a server: %v\n%s", err, data)
		}
		srv.Close()
	})
}

// checkConfigError requires err to be one or more *config.Error, each a
// single non-empty line.
func checkConfigError(t *testing.T, err error) {
	t.Helper()
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	if len(list) == 0 {
		t.Fatal("empty joined error")
	}
	for _, e := range list {
		var ce *config.Error
		if !errors.As(e, &ce) {
			t.Fatalf("error %T is not a *config.Error: %v", e, e)
		}
		msg := e.Error()
		if msg == "" || ce.Msg == "" || strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("error is not one non-empty line: %q", msg)
		}
	}
}
