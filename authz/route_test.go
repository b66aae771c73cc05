package authz

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRouteMatching(t *testing.T) {
	cfg := &Config{Routes: []Route{
		{Name: "api-host", Host: "api.example.com", Path: "/v1/**"},
		{Name: "wild-host", Host: "*.tenants.example.com", Path: "/v1/**"},
		{Name: "exact", Path: "/health"},
		{Name: "trailing", Path: "/dir/"},
		{Name: "one-seg", Path: "/users/*/profile"},
		{Name: "writes", Path: "/orders/**", Methods: []string{"POST", "DELETE"}},
		{Name: "reads", Path: "/orders/**"},
		{Name: "legacy", Prefix: "/admin"},
		{Name: "first", Path: "/x/*"},
		{Name: "second", Path: "/x/y"}, // reachable: "first" needs... no: first covers it
	}}
	cfg.Routes = cfg.Routes[:len(cfg.Routes)-1] // "second" would be unreachable
	pol := mustCompile(t, cfg)
	if !pol.NeedsPath() || !pol.NeedsHost() || !pol.NeedsMethod() || pol.NeedsQuery() {
		t.Errorf("needs: path %v host %v method %v query %v", pol.NeedsPath(), pol.NeedsHost(), pol.NeedsMethod(), pol.NeedsQuery())
	}
	if bare := mustCompile(t, &Config{}); bare.NeedsPath() || bare.NeedsHost() || bare.NeedsMethod() {
		t.Errorf("an empty table needs something")
	}
	cases := []struct {
		method, host, path string
		want               string
	}{
		{"GET", "api.example.com", "/v1/x", "api-host"},
		{"GET", "API.Example.COM:8443", "/v1", "api-host"},
		{"GET", "api.example.com.", "/v1/", "api-host"},
		{"GET", "other.example.com", "/v1/x", "default"},
		{"GET", "a.tenants.example.com", "/v1/x", "wild-host"},
		{"GET", "a.b.tenants.example.com", "/v1/x", "wild-host"},
		{"GET", "tenants.example.com", "/v1/x", "default"},
		{"GET", "evil-tenants.example.com", "/v1/x", "default"},
		{"GET", "x", "/health", "exact"},
		{"GET", "x", "/health;jsessionid=1", "exact"},
		{"GET", "x", "/health/", "default"},
		{"GET", "x", "/healthz", "default"},
		{"GET", "x", "/health/x", "default"},
		{"GET", "x", "/dir/", "trailing"},
		{"GET", "x", "/dir", "default"},
		{"GET", "x", "/users/42/profile", "one-seg"},
		{"GET", "x", "/users/42;v=1/profile", "one-seg"},
		{"GET", "x", "/users//profile", "default"},
		{"GET", "x", "/users/42/profile/x", "default"},
		{"GET", "x", "/users/42", "default"},
		{"POST", "x", "/orders/1", "writes"},
		{"DELETE", "x", "/orders", "writes"},
		{"GET", "x", "/orders/1", "reads"},
		{"post", "x", "/orders/1", "writes"},
		{"Delete", "x", "/orders/1", "writes"},
		{"GET", "x", "/orders;x/1", "reads"},
		{"GET", "x", "/ordersx", "default"},
		{"GET", "x", "/admin", "legacy"},
		{"GET", "x", "/admin/x", "legacy"},
		{"GET", "x", "/admin.json", "legacy"},
		{"GET", "x", "/admin;x", "legacy"},
		{"GET", "x", "/administrator", "default"},
		{"GET", "x", "/admin-ui", "default"},
		{"GET", "x", "/x/y", "first"},
		{"GET", "x", "/", "default"},
	}
	for _, c := range cases {
		r := pol.match([]byte(c.host), []byte(c.path), []byte(c.method))
		if r.name != c.want {
			t.Errorf("%s %s %s: route %q, want %q", c.method, c.host, c.path, r.name, c.want)
		}
	}
}

func TestRouteCompileErrors(t *testing.T) {
	cases := []struct {
		name   string
		routes []Route
		def    Route
		kind   error
		field  string
		words  []string
	}{
		{"unreachable after catch-all", []Route{{Name: "all"}, {Name: "admin", Path: "/admin"}}, Route{}, ErrUnreachable, "routes[1]", []string{"never match", "routes[0]", "move"}},
		{"unreachable after **", []Route{{Path: "/api/**"}, {Path: "/api/v1/*"}}, Route{}, ErrUnreachable, "routes[1]", nil},
		{"unreachable after *", []Route{{Path: "/api/*/x"}, {Path: "/api/v1/x", Methods: []string{"GET"}}}, Route{}, ErrUnreachable, "routes[1]", nil},
		{"unreachable after host wildcard", []Route{{Host: "*.example.com"}, {Host: "a.example.com", Path: "/x"}}, Route{}, ErrUnreachable, "routes[1]", nil},
		{"unreachable after prefix", []Route{{Prefix: "/admin"}, {Path: "/admin/users/*"}}, Route{}, ErrUnreachable, "routes[1]", nil},
		{"unreachable after prefix prefix", []Route{{Prefix: "/admin"}, {Prefix: "/admin/users"}}, Route{}, ErrUnreachable, "routes[1]", nil},
		{"conflicting", []Route{{Path: "/a", Methods: []string{"GET"}}, {Path: "/a", Methods: []string{"GET"}}}, Route{}, ErrUnreachable, "routes[1]", []string{"same requests", "merge"}},
		{"unreachable method subset", []Route{{Path: "/a", Methods: []string{"GET", "POST"}}, {Path: "/a", Methods: []string{"GET"}}}, Route{}, ErrUnreachable, "routes[1]", nil},
		{"regex path", []Route{{Path: "/users/[0-9]+"}}, Route{}, ErrPattern, "routes[0].path", []string{"regular expression", "literal"}},
		{"template path", []Route{{Path: "/users/{id}"}}, Route{}, ErrPattern, "routes[0].path", nil},
		{"partial glob", []Route{{Path: "/files/*.png"}}, Route{}, ErrPattern, "routes[0].path", []string{"mixes"}},
		{"inner **", []Route{{Path: "/a/**/b"}}, Route{}, ErrPattern, "routes[0].path", []string{"last"}},
		{"relative path", []Route{{Path: "api/**"}}, Route{}, ErrPattern, "routes[0].path", []string{"start with /"}},
		{"query in path", []Route{{Path: "/a?b=1"}}, Route{}, ErrPattern, "routes[0].path", nil},
		{"empty segment", []Route{{Path: "/a//b"}}, Route{}, ErrPattern, "routes[0].path", []string{"//"}},
		{"overlong path", []Route{{Path: "/" + strings.Repeat("a", maxPatternBytes)}}, Route{}, ErrPattern, "routes[0].path", []string{"longer"}},
		{"too many segments", []Route{{Path: strings.Repeat("/a", maxPatternSegs+1)}}, Route{}, ErrPattern, "routes[0].path", []string{"segments"}},
		{"path and prefix", []Route{{Path: "/a", Prefix: "/a"}}, Route{}, ErrPattern, "routes[0]", []string{"keep one"}},
		{"bad host", []Route{{Host: "https://api.example.com"}}, Route{}, ErrPattern, "routes[0].host", nil},
		{"inner wildcard host", []Route{{Host: "api.*.example.com"}}, Route{}, ErrPattern, "routes[0].host", []string{"leading"}},
		{"overlong host", []Route{{Host: strings.Repeat("a", maxHostBytes+1)}}, Route{}, ErrPattern, "routes[0].host", nil},
		{"lower-case method", []Route{{Methods: []string{"get"}}}, Route{}, ErrPattern, "routes[0].methods[0]", []string{"upper"}},
		{"issuer not configured", []Route{{Issuers: []string{"https://nobody.example"}}}, Route{}, ErrIssuer, "routes[0].issuers[0]", []string{"not a configured issuer", "add it"}},
		{"unknown access", []Route{{Access: "anonymous"}}, Route{}, ErrSetting, "routes[0].access", []string{"required, optional or public"}},
		{"public with requirements", []Route{{Access: AccessPublic, Scopes: []string{"x"}}}, Route{}, ErrSetting, "routes[0].access", []string{"optional"}},
		{"scope with space", []Route{{Scopes: []string{"a b"}}}, Route{}, ErrSetting, "routes[0].scopes[0]", nil},
		{"duplicate names", []Route{{Name: "a", Path: "/a"}, {Name: "a", Path: "/b"}}, Route{}, ErrSetting, "routes[1].name", nil},
		{"default with path", nil, Route{Path: "/x"}, ErrSetting, "default_route", []string{"routes"}},
		{"condition in route", []Route{{Require: []Condition{{Claim: "a", Op: "is"}}}}, Route{}, ErrOperator, "routes[0].require[0].op", nil},
		{"condition in default", nil, Route{Require: []Condition{{Claim: "a.", Op: OpExists}}}, ErrClaimPath, "default_route.require[0].claim", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(&Config{Routes: c.routes, Default: c.def}, Options{Issuers: []string{testIssuer}})
			if err == nil {
				t.Fatal("compiled, want an error")
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("%v: not %v", err, c.kind)
			}
			var ce *CompileError
			if !errors.As(err, &ce) || ce.Field != c.field {
				t.Errorf("%v: field %q, want %q", err, ce.Field, c.field)
			}
			if ce.Fix == "" {
				t.Errorf("%v: names no fix", err)
			}
			for _, w := range c.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v: does not say %q", err, w)
				}
			}
		})
	}
}

// TestReachableRoutes: routes that only look alike are not refused.
func TestReachableRoutes(t *testing.T) {
	ok := [][]Route{
		{{Path: "/a/x"}, {Path: "/a/*"}},
		{{Path: "/a/*"}, {Path: "/a/**"}},
		{{Path: "/a", Methods: []string{"GET"}}, {Path: "/a"}},
		{{Host: "a.example.com"}, {Host: "*.example.com"}},
		{{Host: "*.example.com"}, {Host: "example.com"}},
		{{Path: "/a/**"}, {Prefix: "/a"}}, // the prefix also covers /a.json
		{{Prefix: "/admin"}, {Path: "/administrator"}},
		{{Path: "/*"}, {Path: "/"}},
		{{Path: "/*"}, {Path: "/a/"}},
	}
	for _, routes := range ok {
		if _, err := Compile(&Config{Routes: routes}, Options{}); err != nil {
			t.Errorf("%+v: %v", routes, err)
		}
	}
}

// TestRouteIndex: the lookup by first segment finds every route of a large
// table, keeps their order with the routes that match any first segment,
// and falls back to those for other paths.
func TestRouteIndex(t *testing.T) {
	cfg := &Config{}
	for i := 0; i < 300; i++ {
		cfg.Routes = append(cfg.Routes, Route{Name: fmt.Sprintf("r%d", i), Path: fmt.Sprintf("/s%d/**", i), Methods: []string{"POST"}})
		if i == 150 {
			cfg.Routes = append(cfg.Routes, Route{Name: "star", Path: "/*/x"})
		}
	}
	pol := mustCompile(t, cfg)
	for i := 0; i < 300; i++ {
		if r := pol.match(nil, []byte(fmt.Sprintf("/s%d/y", i)), []byte("POST")); r.name != fmt.Sprintf("r%d", i) {
			t.Errorf("/s%d/y: %s", i, r.name)
		}
		want := "star"
		if i <= 150 {
			want = fmt.Sprintf("r%d", i) // before the * route
		}
		if r := pol.match(nil, []byte(fmt.Sprintf("/s%d/x", i)), []byte("POST")); r.name != want {
			t.Errorf("/s%d/x: %s, want %s", i, r.name, want)
		}
	}
	for _, p := range []string{"/nope/x", "/s300/x", "/", "/s1;v=2/x"} {
		want := "star"
		if p == "/" {
			want = "default"
		}
		if p == "/s1;v=2/x" {
			want = "r1"
		}
		if r := pol.match(nil, []byte(p), []byte("POST")); r.name != want {
			t.Errorf("%s: %s, want %s", p, r.name, want)
		}
	}
}

// TestSplitFirst: splitFirst, which looks for the end of the first segment
// a word at a time, agrees with its definition for first segments of every
// length around the word, ended by '/', ';' or nothing.
func TestSplitFirst(t *testing.T) {
	def := func(path string) (string, string, bool) {
		if path == "" || path[0] != '/' {
			return "", "", false
		}
		end := strings.IndexAny(path[1:], "/;")
		if end < 0 {
			return path[1:], "", false
		}
		seg := path[1 : 1+end]
		slash := strings.IndexByte(path[1+end:], '/')
		if slash < 0 {
			return seg, "", false
		}
		return seg, path[1+end+slash+1:], true
	}
	pad := "abcdefghijklmnopq"
	for n := 0; n <= len(pad); n++ {
		for _, c := range []string{"", "/", ";", "//", ";/", "/;", ";x/y", "/x;y", "?", "."} {
			for _, tail := range []string{"", "r", "rest/more", "r;s/t"} {
				for _, p := range []string{"/" + pad[:n] + c + tail, pad[:n] + c + tail} {
					seg, rest := splitFirst([]byte(p))
					wantSeg, wantRest, hasRest := def(p)
					if string(seg) != wantSeg || string(rest) != wantRest || (rest != nil) != hasRest {
						t.Errorf("splitFirst(%q) = %q, %q (rest %v); want %q, %q (rest %v)", p, seg, rest, rest != nil, wantSeg, wantRest, hasRest)
					}
				}
			}
		}
	}
}

// TestRouteIndexAgreesWithScan: the lookup by first segment, which skips
// the first segment of the routes it finds by it, picks the route a scan
// of every route in order picks, for paths with parameters, trailing
// slashes, fewer and more segments.
func TestRouteIndexAgreesWithScan(t *testing.T) {
	patterns := []string{"/a", "/a/", "/a/*", "/a/b", "/a/**", "/a/*/c", "/*/b", "/b/**", "/a;x/**", "/ab/*", "/**"}
	var cfg Config
	for i, p := range patterns {
		cfg.Routes = append(cfg.Routes, Route{Name: fmt.Sprint("r", i), Path: p, Methods: []string{fmt.Sprint("M", i%4)}})
	}
	pol := mustCompile(t, &cfg)
	scan := func(path, method string) string {
		for i := range pol.routes[:len(pol.routes)-1] {
			if r := &pol.routes[i]; r.path.match([]byte(path)) && r.matchMethod([]byte(method)) {
				return r.name
			}
		}
		return pol.routes[len(pol.routes)-1].name
	}
	segs := []string{"a", "a;x", "a;x;y", "ab", "b", "", "c", "b;v=1"}
	var paths []string
	for _, s1 := range segs {
		paths = append(paths, "/"+s1)
		for _, s2 := range segs {
			paths = append(paths, "/"+s1+"/"+s2)
			for _, s3 := range segs {
				paths = append(paths, "/"+s1+"/"+s2+"/"+s3)
			}
		}
	}
	for _, p := range paths {
		for m := 0; m < 4; m++ {
			method := fmt.Sprint("M", m)
			if got, want := pol.match(nil, []byte(p), []byte(method)).name, scan(p, method); got != want {
				t.Errorf("%s %s: %s, want %s", method, p, got, want)
			}
		}
	}
}
