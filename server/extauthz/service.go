// Package extauthz is jwtgate's gRPC front end: Envoy's external
// authorization service (envoy.service.auth.v3.Authorization), for Envoy's
// ext_authz HTTP filter with a grpc_service, Istio's envoyExtAuthzGrpc
// extension providers and Contour's ExtensionService.
//
// It is a thin adapter over the decision package authz, the one that /auth
// decides with: a CheckRequest's HTTP attributes become an authz.Request
// (the token from its headers, the original method, host and path for the
// route rules), and the authz.Decision becomes a CheckResponse:
//
//   - allowed: status OK and an OkHttpResponse that sets every identity
//     header, overwriting the client's copies, and removes the client's
//     copies of identity headers the token does not fill and every header
//     an upstream could take for one ("X_Auth_Subject", "X.Auth.Subject");
//     optionally the verified claims as dynamic metadata;
//   - refused: UNAUTHENTICATED (401) or PERMISSION_DENIED (403) and a
//     DeniedHttpResponse with the same status, WWW-Authenticate challenge
//     and JSON body as /auth.
//
// Server serves the Service on a listener of its own with the standard
// gRPC health service (grpc.health.v1), bounded message sizes and streams,
// keepalive enforcement and the same drain as the HTTP server.
package extauthz

import (
	"context"
	"sync"

	"github.com/VictoriaMetrics/metrics"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/jwtgate/jwtgate/authz"
)

// Config is what a Service decides with.
type Config struct {
	// Policy is the compiled authorization policy: token sources, routes,
	// identity headers. Required.
	Policy *authz.Policy
	// Verifier verifies tokens (server.Server.Decider returns the HTTP
	// server's, whose token cache the two then share). Required.
	Verifier authz.Verifier
	// Realm is the realm of the WWW-Authenticate challenges (default
	// "jwtgate").
	Realm string
	// Metrics is the set the Check counters go in (nil: a set of the
	// Service's own, see Service.Metrics).
	Metrics *metrics.Set
	// PayloadInMetadata adds the verified claims of an allowed request to
	// the CheckResponse's dynamic_metadata under MetadataNamespace, as
	// Envoy's jwt_authn payload_in_metadata does.
	PayloadInMetadata bool
	// MetadataNamespace is the key of the claims in the dynamic metadata
	// (default "jwt_payload").
	MetadataNamespace string
}

// Service implements envoy.service.auth.v3.Authorization over an authz
// policy. It is safe for concurrent use.
type Service struct {
	authv3.UnimplementedAuthorizationServer

	pol       *authz.Policy
	verifier  authz.Verifier
	realm     string
	payloadNS string // "" unless PayloadInMetadata
	identity  []string
	counts    *counters
}

var _ authv3.AuthorizationServer = (*Service)(nil)

// ErrConfig is returned by NewService and NewServer for a Config without a
// policy or a verifier.
var ErrConfig = errorString("extauthz: Config.Policy and Config.Verifier are required (server.Server.Decider returns both)")

type errorString string

func (e errorString) Error() string { return string(e) }

// NewService returns the Check service of cfg.
func NewService(cfg Config) (*Service, error) {
	if cfg.Policy == nil || cfg.Verifier == nil {
		return nil, ErrConfig
	}
	s := &Service{pol: cfg.Policy, verifier: cfg.Verifier, realm: cfg.Realm, identity: cfg.Policy.IdentityHeaders()}
	if s.realm == "" {
		s.realm = "jwtgate"
	}
	if cfg.PayloadInMetadata {
		s.payloadNS = cfg.MetadataNamespace
		if s.payloadNS == "" {
			s.payloadNS = "jwt_payload"
		}
	}
	set := cfg.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	s.counts = newCounters(set, cfg.Policy)
	return s, nil
}

// Metrics returns the set the Service counts in.
func (s *Service) Metrics() *metrics.Set { return s.counts.set }

// exchange is the per-call memory, pooled: a Check allocates only what the
// generated response types force.
type exchange struct {
	st      authz.State
	req     authz.Request
	headers checkHeaders
	path    []byte // the normalized original path
	buf     []byte
	own     authz.Decision // a refusal of the adapter's own
}

var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

// Check decides on the request that the CheckRequest describes, exactly as
// /auth decides, and answers in Envoy's terms. A refusal is a CheckResponse
// with a non-OK status, never a gRPC error: Envoy then sends the client the
// DeniedHttpResponse.
func (s *Service) Check(_ context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	x := exchangePool.Get().(*exchange)
	defer x.release()
	d := s.decide(req, x)
	return s.respond(d, x), nil
}

// decide fills x from req and decides. It returns a Decision whose Denial
// is set for a request the adapter itself refuses.
func (s *Service) decide(req *authv3.CheckRequest, x *exchange) *authz.Decision {
	http := req.GetAttributes().GetRequest().GetHttp()
	if http == nil {
		return x.refuse(DenialNoHTTP)
	}
	x.headers.set(http)
	x.req = authz.Request{Headers: &x.headers}
	x.req.Method = x.headers.attribute(http.GetMethod(), ":method")
	x.req.Host = x.headers.attribute(http.GetHost(), ":authority")
	if len(x.req.Host) == 0 {
		x.req.Host = x.headers.attribute("", "host")
	}
	rawPath, query, known := splitTarget(x.headers.attribute(http.GetPath(), ":path"))
	x.req.Query = query
	if !known && s.pol.NeedsPath() {
		return x.refuse(DenialNoPath)
	}
	if known && s.pol.NeedsPath() {
		var ok bool
		x.path, ok = authz.NormalizePath(x.path[:0], rawPath)
		if !ok {
			return x.refuse(authz.DenialURIEncoding)
		}
		x.req.Path = x.path
	}
	return s.pol.Decide(&x.req, s.verifier, &x.st)
}

// refuse returns the refusal d as a Decision.
func (x *exchange) refuse(d *authz.Denial) *authz.Decision {
	x.own = authz.Decision{Denial: d}
	return &x.own
}

// release clears the references into the request and returns x to the pool.
func (x *exchange) release() {
	x.headers = checkHeaders{}
	x.req = authz.Request{}
	exchangePool.Put(x)
}

// payloadMetadata returns the dynamic metadata that carries the verified
// claims of d, or nil when there are none or they do not convert.
func (s *Service) payloadMetadata(d *authz.Decision) *structpb.Struct {
	if s.payloadNS == "" || d.Token == nil {
		return nil
	}
	claims := new(structpb.Struct)
	if err := protojson.Unmarshal(d.Token.Payload(), claims); err != nil {
		return nil
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{s.payloadNS: structpb.NewStructValue(claims)}}
}
