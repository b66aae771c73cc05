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

// okAnswer is every message of an allowed request's answer, in one
// allocation; up to inlineHeaders identity headers fit in it.
type okAnswer struct {
	resp    authv3.CheckResponse
	wrap    authv3.CheckResponse_OkResponse
	ok      authv3.OkHttpResponse
	ptrs    [inlineHeaders]*corev3.HeaderValueOption
	opts    [inlineHeaders]corev3.HeaderValueOption
	vals    [inlineHeaders]corev3.HeaderValue
	removal [2]string
}

const inlineHeaders = 4

// deniedAnswer is every message of a refusal, in one allocation.
type deniedAnswer struct {
	resp      authv3.CheckResponse
	wrap      authv3.CheckResponse_DeniedResponse
	denied    authv3.DeniedHttpResponse
	status    typev3.HttpStatus
	rpc       rpcstatus.Status
	headers   [2]*corev3.HeaderValueOption
	challenge corev3.HeaderValueOption
	value     corev3.HeaderValue
}

// respond translates the decision d into Envoy's answer and counts it.
func (s *Service) respond(v *view, d *authz.Decision, x *exchange) *authv3.CheckResponse {
	if !d.Allowed {
		s.counts.denied(v.known, d.Denial)
		return v.denied(d.Denial, x)
	}
	s.counts.allowed(v.known, d.Reason())
	a := &okAnswer{}
	// The values, in one string: one allocation for all of them.
	x.buf = x.buf[:0]
	n := 0
	d.VisitHeaders(func(name, value []byte) {
		if len(value) > 0 {
			x.buf = append(x.buf, value...)
			n++
		}
	})
	all := string(x.buf)
	opts, vals := a.opts[:], a.vals[:]
	a.ok.Headers = a.ptrs[:0]
	if n > inlineHeaders {
		opts, vals = make([]corev3.HeaderValueOption, n), make([]corev3.HeaderValue, n)
		a.ok.Headers = make([]*corev3.HeaderValueOption, 0, n)
	}
	d.VisitHeaders(func(name, value []byte) {
		if len(value) == 0 {
			return
		}
		i := len(a.ok.Headers)
		vals[i].Key, vals[i].Value, all = v.headerName(name), all[:len(value)], all[len(value):]
		// append false too, for Envoy before 1.22, which does not know
		// append_action and would append to the client's copy.
		opts[i].Header, opts[i].Append, opts[i].AppendAction = &vals[i], appendFalse, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		a.ok.Headers = append(a.ok.Headers, &opts[i])
	})
	a.ok.HeadersToRemove = v.headersToRemove(d, x, a.removal[:0])
	a.wrap.OkResponse = &a.ok
	a.resp.Status, a.resp.HttpResponse, a.resp.DynamicMetadata = statusOK, &a.wrap, v.payloadMetadata(d)
	return &a.resp
}

// headerName returns the identity header name as a string, without
// allocating for the policy's own names.
func (v *view) headerName(name []byte) string {
	for _, h := range v.identity {
		if h == string(name) {
			return h
		}
	}
	return string(name)
}

// headersToRemove appends to dst the request's headers that an upstream
// could take for an identity header and that the answer does not
// overwrite: client copies of an identity header the token does not fill,
// and look-alikes ("x_auth_subject", "x.auth.subject") of every identity
// header. It returns nil when there are none.
func (v *view) headersToRemove(d *authz.Decision, x *exchange, dst []string) []string {
	x.headers.visitNames(func(name string) {
		if !v.pol.IsLookAlike(bytesOf(name)) || overwrites(d, name) {
			return
		}
		dst = append(dst, lower(name))
	})
	if len(dst) == 0 {
		return nil
	}
	return dst
}

// lower returns name in lower case, allocating only when it is not.
func lower(name string) string {
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// overwrites reports whether the answer to d sets the header name.
func overwrites(d *authz.Decision, name string) bool {
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
func (v *view) denied(den *authz.Denial, x *exchange) *authv3.CheckResponse {
	a := &deniedAnswer{}
	a.rpc.Code, a.status.Code = int32(codes.PermissionDenied), typev3.StatusCode_Forbidden
	if den.Status() == 401 {
		a.rpc.Code, a.status.Code = int32(codes.Unauthenticated), typev3.StatusCode_Unauthorized
	}
	a.rpc.Message = den.Description()
	a.denied.Status, a.denied.Headers = &a.status, append(a.headers[:0], headerContentType)
	// The challenge and the body, in one string.
	x.buf = x.buf[:0]
	if den.Challenges() {
		x.buf = den.AppendChallenge(x.buf, v.realm)
	}
	split := len(x.buf)
	x.buf = den.AppendJSON(x.buf, false)
	all := string(x.buf)
	if split > 0 {
		a.value.Key, a.value.Value = "www-authenticate", all[:split]
		a.challenge.Header, a.challenge.AppendAction = &a.value, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		a.denied.Headers = append(a.denied.Headers, &a.challenge)
	}
	a.denied.Body = all[split:]
	a.wrap.DeniedResponse = &a.denied
	a.resp.Status, a.resp.HttpResponse = &a.rpc, &a.wrap
	return &a.resp
}
