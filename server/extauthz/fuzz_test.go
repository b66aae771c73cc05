package extauthz

import (
	"bytes"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/jwtgate/jwtgate/authz"
)

// FuzzCheck feeds Check arbitrary CheckRequests (random bytes unmarshalled
// as one) under a policy with a public route, an admin rule and a
// required default. Check never panics and answers every request; it
// allows only a request that carries the valid token, or one whose path
// the public route covers.
func FuzzCheck(f *testing.F) {
	fx := newFixture(f, testConfig(), nil)
	pol, err := authz.Compile(&authz.Config{Routes: []authz.Route{
		{Name: "public", Path: "/public/**", Access: authz.AccessPublic},
		{Name: "admin", Prefix: "/admin", Scopes: []string{"admin"}},
	}}, authz.Options{Issuers: []string{testIssuer}})
	if err != nil {
		f.Fatal(err)
	}
	g := fx.http.Acquire()
	f.Cleanup(g.Release)
	svc, err := NewService(Config{Policy: pol, Verifier: g.Verifier()})
	if err != nil {
		f.Fatal(err)
	}
	valid := token(f)
	for _, r := range []httpReq{
		{"GET", "api.example", "/orders", map[string]string{"authorization": "Bearer " + valid}},
		{"GET", "api.example", "/public/x", nil},
		{"GET", "api.example", "/public/../admin", map[string]string{"authorization": "Bearer " + valid}},
		{"OPTIONS", "api.example", "/admin?x", map[string]string{"origin": "https://a", "access-control-request-method": "GET", "x_auth_subject": "root"}},
		{"GET", "api.example", "/%2e%2e/public", map[string]string{"authorization": "Bearer " + valid + "x"}},
	} {
		b, err := proto.Marshal(r.checkRequest())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	b, _ := proto.Marshal(rawHeaders("/public/a", "authorization", "Bearer "+valid))
	f.Add(b)
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		var req authv3.CheckRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			return
		}
		x := exchangePool.Get().(*exchange)
		defer x.release()
		d := svc.decide(svc.fixed, &req, x)
		resp := svc.respond(svc.fixed, d, x)
		code := codes.Code(resp.GetStatus().GetCode())
		switch code {
		case codes.OK:
			if resp.GetOkResponse() == nil {
				t.Fatalf("OK without an OkHttpResponse")
			}
			public := d.Reason() == authz.ReasonPublic && bytes.HasPrefix(x.req.Path, []byte("/public")) &&
				(len(x.req.Path) == len("/public") || x.req.Path[len("/public")] == '/')
			// No CORS preflight passes: the policy does not let them.
			if !public && !carries(&req, valid) {
				t.Fatalf("allowed (%s) without the valid token or a public path (%q)", d.Reason(), x.req.Path)
			}
		case codes.Unauthenticated, codes.PermissionDenied:
			dr := resp.GetDeniedResponse()
			if dr == nil || (int(dr.GetStatus().GetCode()) == 401) != (code == codes.Unauthenticated) {
				t.Fatalf("%v with denied response %v", code, dr)
			}
		default:
			t.Fatalf("status %v", code)
		}
	})
}

// carries reports whether the request's headers hold the token tok.
func carries(req *authv3.CheckRequest, tok string) bool {
	h := req.GetAttributes().GetRequest().GetHttp()
	for _, v := range h.GetHeaders() {
		if strings.Contains(v, tok) {
			return true
		}
	}
	for _, hv := range h.GetHeaderMap().GetHeaders() {
		if strings.Contains(hv.GetValue(), tok) || strings.Contains(string(hv.GetRawValue()), tok) {
			return true
		}
	}
	return false
}
