package extauthz

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/jwtgate/jwtgate/authz"
)

// Shared parts of every answer: the generated types are read, never
// changed, once built.
var (
	statusOK          = &rpcstatus.Status{Code: int32(codes.OK)}
	appendFalse       = wrapperspb.Bool(false)
	headerContentType = &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: "content-type", Value: "application/json"},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
)

// respond translates the decision d into Envoy's answer and counts it.
func (s *Service) respond(d *authz.Decision, x *exchange) *authv3.CheckResponse {
	if !d.Allowed {
		s.counts.denied(d.Denial)
		return s.denied(d.Denial, x)
	}
	s.counts.allowed(d.Reason())
	ok := &authv3.OkHttpResponse{}
	n := 0
	d.VisitHeaders(func(name, value []byte) {
		if len(value) > 0 {
			n++
		}
	})
	if n > 0 {
		opts := make([]corev3.HeaderValueOption, n)
		vals := make([]corev3.HeaderValue, n)
		ok.Headers = make([]*corev3.HeaderValueOption, 0, n)
		d.VisitHeaders(func(name, value []byte) {
			if len(value) == 0 {
				return
			}
			i := len(ok.Headers)
			vals[i].Key, vals[i].Value = string(name), string(value)
			// append false for Envoy before 1.22, which does not know
			// append_action and otherwise appends to the client's copy.
			opts[i].Header, opts[i].Append, opts[i].AppendAction = &vals[i], appendFalse, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			ok.Headers = append(ok.Headers, &opts[i])
		})
	}
	ok.HeadersToRemove = s.headersToRemove(d, x)
	return &authv3.CheckResponse{
		Status:          statusOK,
		HttpResponse:    &authv3.CheckResponse_OkResponse{OkResponse: ok},
		DynamicMetadata: s.payloadMetadata(d),
	}
}

// headersToRemove lists the request's headers that an upstream could take
// for an identity header and that the answer does not overwrite: client
// copies of an identity header the token does not fill, and look-alikes
// ("x_auth_subject", "x.auth.subject") of every identity header.
func (s *Service) headersToRemove(d *authz.Decision, x *exchange) []string {
	var remove []string
	x.headers.visitNames(func(name string) {
		if !s.pol.IsLookAlike(bytesOf(name)) || s.overwrites(d, name) {
			return
		}
		remove = append(remove, strings.ToLower(name))
	})
	return remove
}

// overwrites reports whether the answer to d sets the header name.
func (s *Service) overwrites(d *authz.Decision, name string) bool {
	found := false
	d.VisitHeaders(func(h, value []byte) {
		if len(value) > 0 && strings.EqualFold(string(h), name) {
			found = true
		}
	})
	return found
}

// denied is the answer to a refused request: the status of the refusal,
// the challenge and JSON body of /auth.
func (s *Service) denied(den *authz.Denial, x *exchange) *authv3.CheckResponse {
	code, httpCode := codes.PermissionDenied, typev3.StatusCode_Forbidden
	if den.Status() == 401 {
		code, httpCode = codes.Unauthenticated, typev3.StatusCode_Unauthorized
	}
	resp := &authv3.DeniedHttpResponse{
		Status:  &typev3.HttpStatus{Code: httpCode},
		Headers: []*corev3.HeaderValueOption{headerContentType},
	}
	if den.Challenges() {
		x.buf = den.AppendChallenge(x.buf[:0], s.realm)
		resp.Headers = append(resp.Headers, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: "www-authenticate", Value: string(x.buf)},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	x.buf = den.AppendJSON(x.buf[:0], false)
	resp.Body = string(x.buf)
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(code), Message: den.Description()},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: resp},
	}
}
