package extauthz

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"github.com/jwtgate/jwtgate/server/config"
)

var errorAttr = regexp.MustCompile(`error="([^"]*)"`)

// TestCheckContract replays the HTTP contract through Check over a real
// gRPC connection, and compares every answer with /auth's.
func TestCheckContract(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	_, conn := f.serve(t)
	client := authv3.NewAuthorizationClient(conn)

	valid := token(t)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testIssuer+`","sub":"mallory","aud":"`+testAudience+`","exp":4102444800}`)) + "." + parts[2]
	algNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + parts[1] + "."
	bearer := func(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }

	cases := []struct {
		name    string
		req     httpReq
		code    codes.Code
		status  int
		errCode string // the challenge's error attribute
		scope   string // the challenge's scope attribute
	}{
		{"valid", httpReq{"GET", "api.example", "/orders", bearer(valid)}, codes.OK, 200, "", ""},
		{"expired", httpReq{"GET", "api.example", "/orders", bearer(token(t, func(c map[string]any) { c["exp"] = epoch.Unix() - 3600 }))}, codes.Unauthenticated, 401, "invalid_token", ""},
		{"tampered", httpReq{"GET", "api.example", "/orders", bearer(tampered)}, codes.Unauthenticated, 401, "invalid_token", ""},
		{"alg none", httpReq{"GET", "api.example", "/orders", bearer(algNone)}, codes.Unauthenticated, 401, "invalid_token", ""},
		{"wrong audience", httpReq{"GET", "api.example", "/orders", bearer(token(t, func(c map[string]any) { c["aud"] = "api://other" }))}, codes.Unauthenticated, 401, "invalid_token", ""},
		{"no token", httpReq{"GET", "api.example", "/orders", nil}, codes.Unauthenticated, 401, "", ""},
		{"not bearer", httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Basic YWxpY2U6cHc="}}, codes.Unauthenticated, 401, "", ""},
		{"missing scope", httpReq{"GET", "api.example", "/admin/users", bearer(valid)}, codes.PermissionDenied, 403, "insufficient_scope", "admin"},
		{"rule scope held", httpReq{"GET", "api.example", "/admin/users", bearer(token(t, func(c map[string]any) { c["scope"] = "admin" }))}, codes.OK, 200, "", ""},
		{"rule method", httpReq{"GET", "api.example", "/reports/q3", bearer(token(t, func(c map[string]any) { c["scope"] = "write" }))}, codes.PermissionDenied, 403, "insufficient_scope", "read"},
		{"rule other method", httpReq{"POST", "api.example", "/reports/q3", bearer(token(t, func(c map[string]any) { c["scope"] = "write" }))}, codes.OK, 200, "", ""},
		{"rule word boundary", httpReq{"GET", "api.example", "/administrator", bearer(valid)}, codes.OK, 200, "", ""},
		{"rule encoded path", httpReq{"GET", "api.example", "/%61dmin/users", bearer(valid)}, codes.PermissionDenied, 403, "insufficient_scope", "admin"},
		{"rule dot segments", httpReq{"GET", "api.example", "/public/../admin?x=1", bearer(valid)}, codes.PermissionDenied, 403, "insufficient_scope", "admin"},
		{"ambiguous path", httpReq{"GET", "api.example", "/%2e%2e/admin", bearer(valid)}, codes.PermissionDenied, 403, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Check(context.Background(), tc.req.checkRequest())
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			a := answerOf(t, resp)
			if codes.Code(a.code) != tc.code || a.status != tc.status {
				t.Fatalf("got %v %d (%s), want %v %d", codes.Code(a.code), a.status, resp.GetStatus().GetMessage(), tc.code, tc.status)
			}
			status, challenge, _ := f.forwardAuth(tc.req)
			if status != a.status {
				t.Errorf("/auth answers %d, Check %d", status, a.status)
			}
			if a.status == 200 {
				return
			}
			got := a.set["www-authenticate"]
			if got == "" && tc.status == 401 {
				t.Fatalf("401 without WWW-Authenticate: %v", a.set)
			}
			if m := errorAttr.FindStringSubmatch(got); (m == nil && tc.errCode != "") || (m != nil && m[1] != tc.errCode) {
				t.Errorf("WWW-Authenticate %q: want error=%q", got, tc.errCode)
			}
			if tc.scope != "" && !strings.Contains(got, `scope="`+tc.scope+`"`) {
				t.Errorf("WWW-Authenticate %q: want scope=%q", got, tc.scope)
			}
			if !strings.HasPrefix(got, `Bearer realm="jwtgate"`) && got != "" {
				t.Errorf("WWW-Authenticate %q: want the realm first", got)
			}
			// The challenge is /auth's: the same code and scope, and for
			// refusals of the token the same text.
			if errorAttr.FindString(challenge) != errorAttr.FindString(got) {
				t.Errorf("challenges differ:\n/auth %q\ngRPC  %q", challenge, got)
			}
			if tc.status == 401 && challenge != got {
				t.Errorf("challenges differ:\n/auth %q\ngRPC  %q", challenge, got)
			}
			if a.set["content-type"] != "application/json" || !strings.Contains(a.body, `"reason"`) {
				t.Errorf("body %q (content-type %q): want /auth's JSON", a.body, a.set["content-type"])
			}
			if strings.Contains(a.body, "alice") || strings.Contains(a.body, valid) {
				t.Errorf("body %q echoes the token or a claim", a.body)
			}
		})
	}
}

// TestCheckIdentityHeaders: an allowed request's answer sets every identity
// header the token fills, overwriting the client's copies, and removes the
// client's copies of those it does not fill and every look-alike.
func TestCheckIdentityHeaders(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	tok := token(t, func(c map[string]any) { delete(c, "scope") })
	r := httpReq{"GET", "api.example", "/orders", map[string]string{
		"authorization":   "Bearer " + tok,
		"x-auth-subject":  "root",    // overwritten
		"x-auth-scope":    "admin",   // the token has no scope: removed
		"x_auth_subject":  "root",    // look-alikes: removed
		"x.auth.issuer":   "evil",    //
		"X-AUTH_Scope":    "admin",   // any case
		"x-auth-subjects": "not one", // not a look-alike
		"x-request-id":    "abc",
	}}
	resp, err := f.svc.Check(context.Background(), r.checkRequest())
	if err != nil {
		t.Fatal(err)
	}
	a := answerOf(t, resp)
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, resp.GetStatus().GetMessage())
	}
	want := map[string]string{"x-auth-subject": "alice", "x-auth-issuer": testIssuer}
	if len(a.set) != len(want) {
		t.Errorf("headers set %v, want %v", a.set, want)
	}
	for k, v := range want {
		if a.set[k] != v {
			t.Errorf("%s = %q, want %q", k, a.set[k], v)
		}
	}
	slices.Sort(a.remove)
	wantRemove := []string{"x-auth-scope", "x-auth_scope", "x.auth.issuer", "x_auth_subject"}
	if !slices.Equal(a.remove, wantRemove) {
		t.Errorf("headers_to_remove %q, want %q", a.remove, wantRemove)
	}
	if a.metadata != nil {
		t.Errorf("dynamic metadata %v without payload_in_metadata", a.metadata)
	}
	// /auth sends the same identity.
	status, _, hdrs := f.forwardAuth(r)
	if status != 200 || hdrs["x-auth-subject"] != "alice" || hdrs["x-auth-issuer"] != testIssuer {
		t.Errorf("/auth: %d %v", status, hdrs)
	}
}

// TestCheckPayloadInMetadata: with PayloadInMetadata the verified claims
// are the dynamic metadata, under the namespace.
func TestCheckPayloadInMetadata(t *testing.T) {
	cfg := testConfig()
	cfg.GRPC.PayloadInMetadata, cfg.GRPC.MetadataNamespace = true, "claims"
	f := newFixture(t, cfg, nil)
	r := httpReq{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + token(t)}}
	resp, err := f.svc.Check(context.Background(), r.checkRequest())
	if err != nil {
		t.Fatal(err)
	}
	a := answerOf(t, resp)
	c, _ := a.metadata["claims"].(map[string]any)
	if a.status != 200 || c["sub"] != "alice" || c["aud"] != testAudience {
		t.Fatalf("status %d, metadata %v", a.status, a.metadata)
	}
	// Refusals carry none.
	r.headers = nil
	resp, _ = f.svc.Check(context.Background(), r.checkRequest())
	if resp.GetDynamicMetadata() != nil {
		t.Errorf("refusal with metadata %v", resp.GetDynamicMetadata())
	}
}

// TestCheckAttributes: the original request is read from the attributes,
// else from the pseudo-headers; without HTTP attributes the answer is a
// clear refusal.
func TestCheckAttributes(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	admin := "Bearer " + token(t)
	cases := []struct {
		name   string
		req    *authv3.CheckRequest
		status int
		reason string
	}{
		{"nil request", nil, 403, "no_http_request"},
		{"no attributes", &authv3.CheckRequest{}, 403, "no_http_request"},
		{"no request", &authv3.CheckRequest{Attributes: &authv3.AttributeContext{}}, 403, "no_http_request"},
		{"no http", &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{}}}, 403, "no_http_request"},
		{"empty http", httpOnly(&authv3.AttributeContext_HttpRequest{}), 403, "uri_unknown"},
		{"path from pseudo-header", httpOnly(&authv3.AttributeContext_HttpRequest{Headers: map[string]string{":path": "/admin", ":method": "GET", "authorization": admin}}), 403, "rule_scope"},
		{"method from pseudo-header", httpOnly(&authv3.AttributeContext_HttpRequest{Path: "/reports", Headers: map[string]string{":method": "GET", "authorization": "Bearer " + token(t, func(c map[string]any) { c["scope"] = "x" })}}), 403, "rule_scope"},
		{"attribute wins", httpOnly(&authv3.AttributeContext_HttpRequest{Path: "/orders", Headers: map[string]string{":path": "/admin", "authorization": admin}}), 200, "allowed"},
		{"header names in any case", httpOnly(&authv3.AttributeContext_HttpRequest{Path: "/orders", Headers: map[string]string{"Authorization": admin}}), 200, "allowed"},
		{"two tokens in two cases", httpOnly(&authv3.AttributeContext_HttpRequest{Path: "/orders", Headers: map[string]string{"Authorization": admin, "authorization": admin}}), 401, "multiple_tokens"},
		{"control character in token", httpOnly(&authv3.AttributeContext_HttpRequest{Path: "/orders", Headers: map[string]string{"authorization": "Bearer a\x00b.c\r\nd.e"}}), 401, ""},
		{"control character in path", httpOnly(&authv3.AttributeContext_HttpRequest{Path: "/adm\x00in", Headers: map[string]string{"authorization": admin}}), 403, "uri_encoding"},
		{"fragment in path", httpOnly(&authv3.AttributeContext_HttpRequest{Path: "/orders#x", Headers: map[string]string{"authorization": admin}}), 403, "uri_encoding"},
		{"raw header map", httpOnly(rawHeaders("/orders", "authorization", admin)), 200, "allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.svc.Check(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			a := answerOf(t, resp)
			if a.status != tc.status {
				t.Fatalf("status %d (%s), want %d", a.status, resp.GetStatus().GetMessage(), tc.status)
			}
			if tc.reason != "" && a.status != 200 && !strings.Contains(a.body, `"reason":"`+tc.reason+`"`) {
				t.Errorf("body %q: want reason %q", a.body, tc.reason)
			}
			if tc.reason == "uri_unknown" && !strings.Contains(a.body, ":path") {
				t.Errorf("body %q: want the fix for a CheckRequest (the :path header), not /auth's", a.body)
			}
		})
	}
}

func httpOnly(h *authv3.AttributeContext_HttpRequest) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: h}}}
}

// rawHeaders is a request whose headers come in header_map with raw
// values (Envoy's encode_raw_headers).
func rawHeaders(path string, kv ...string) *authv3.AttributeContext_HttpRequest {
	h := &authv3.AttributeContext_HttpRequest{Path: path, HeaderMap: &corev3.HeaderMap{}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.HeaderMap.Headers = append(h.HeaderMap.Headers, &corev3.HeaderValue{Key: kv[i], RawValue: []byte(kv[i+1])})
	}
	return h
}

// TestCheckManyIdentityHeaders: more identity headers than fit in the
// answer's inline block are all set, each with its own value.
func TestCheckManyIdentityHeaders(t *testing.T) {
	cfg := testConfig()
	want := map[string]string{}
	for i, claim := range []string{"sub", "iss", "aud", "scope", "c1", "c2"} {
		name := "X-Claim-" + string(rune('A'+i))
		cfg.Identity.Headers = append(cfg.Identity.Headers, config.IdentityHeader{Header: name, Claim: claim})
		want[strings.ToLower(name)] = map[string]string{"sub": "alice", "iss": testIssuer, "aud": testAudience, "scope": "read write", "c1": "one", "c2": "two"}[claim]
	}
	f := newFixture(t, cfg, nil)
	tok := token(t, func(c map[string]any) { c["c1"], c["c2"] = "one", "two" })
	resp, err := f.svc.Check(context.Background(), httpReq{"GET", "h", "/orders", map[string]string{"authorization": "Bearer " + tok}}.checkRequest())
	if err != nil {
		t.Fatal(err)
	}
	a := answerOf(t, resp)
	if a.status != 200 || len(a.set) != len(want) {
		t.Fatalf("status %d, headers %v; want %v", a.status, a.set, want)
	}
	for k, v := range want {
		if a.set[k] != v {
			t.Errorf("%s = %q, want %q", k, a.set[k], v)
		}
	}
}
