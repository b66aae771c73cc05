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
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/server"
)

// Generations is where a Service takes its decision settings from for
// each call: server.Server, whose Acquire returns the generation serving
// now (its policy, its verifier on its key store, its realm and gRPC
// settings), held until the answer is built.
type Generations interface {
	Acquire() *server.Generation
}

// Config is what a Service decides with: either Generations (jwtgate
// serve: every Check follows the HTTP server's reloads), or a fixed
// Policy and Verifier with their Realm and metadata settings.
type Config struct {
	// Generations, if set, gives each Check the configuration serving
	// now: its policy, verifier, realm (realm) and dynamic metadata
	// settings (grpc.payload_in_metadata, grpc.metadata_namespace).
	// Policy, Verifier, Realm, PayloadInMetadata and MetadataNamespace
	// must then be left unset.
	Generations Generations
	// Policy is the compiled authorization policy: token sources, routes,
	// identity headers. Required without Generations.
	Policy *authz.Policy
	// Verifier verifies tokens. Required without Generations.
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

	gens   Generations
	fixed  *view                // without gens
	last   atomic.Pointer[view] // with gens: the view of the newest generation seen
	counts *counters
}

// view is what one configuration decides and answers with.
type view struct {
	gen       *server.Generation // nil for a fixed configuration
	pol       *authz.Policy
	verifier  authz.Verifier
	realm     string
	payloadNS string   // "" unless PayloadInMetadata
	identity  []string // the policy's identity headers
	known     map[string]*metrics.Counter
}

var _ authv3.AuthorizationServer = (*Service)(nil)

// ErrConfig is returned by NewService and NewServer for a Config with
// neither Generations nor a policy and a verifier, or with both.
var ErrConfig = errorString("extauthz: set Config.Generations (a server.Server), or Config.Policy and Config.Verifier, not both")

type errorString string

func (e errorString) Error() string { return string(e) }

// NewService returns the Check service of cfg.
func NewService(cfg Config) (*Service, error) {
	fixed := cfg.Policy != nil || cfg.Verifier != nil || cfg.Realm != "" || cfg.PayloadInMetadata || cfg.MetadataNamespace != ""
	if cfg.Generations != nil && fixed || cfg.Generations == nil && (cfg.Policy == nil || cfg.Verifier == nil) {
		return nil, ErrConfig
	}
	set := cfg.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	s := &Service{gens: cfg.Generations, counts: newCounters(set)}
	if cfg.Generations == nil {
		s.fixed = s.newView(nil, cfg.Policy, cfg.Verifier, cfg.Realm, cfg.PayloadInMetadata, cfg.MetadataNamespace)
		return s, nil
	}
	// The counters of the configuration serving now exist from the start.
	g := cfg.Generations.Acquire()
	s.viewOf(g)
	g.Release()
	return s, nil
}

// newView returns the view of one configuration, its counters registered.
func (s *Service) newView(g *server.Generation, pol *authz.Policy, v authz.Verifier, realm string, payload bool, ns string) *view {
	w := &view{gen: g, pol: pol, verifier: v, realm: realm, identity: pol.IdentityHeaders()}
	if w.realm == "" {
		w.realm = "jwtgate"
	}
	if payload {
		w.payloadNS = ns
		if w.payloadNS == "" {
			w.payloadNS = "jwt_payload"
		}
	}
	w.known = s.counts.forPolicy(pol)
	return w
}

// viewOf returns the view of the held generation g: the one remembered
// when g is the newest seen, else a new one (remembered if g is newer). A
// Check allocates it only on the first calls after a reload.
func (s *Service) viewOf(g *server.Generation) *view {
	last := s.last.Load()
	if last != nil && last.gen == g {
		return last
	}
	cfg := g.Config()
	w := s.newView(g, g.Policy(), g.Verifier(), cfg.Realm, cfg.GRPC.PayloadInMetadata, cfg.GRPC.MetadataNamespace)
	for {
		if last != nil && last.gen.Number() >= g.Number() {
			if last.gen == g {
				return last // another call remembered it meanwhile
			}
			return w // a call that began before the reload
		}
		if s.last.CompareAndSwap(last, w) {
			return w
		}
		last = s.last.Load()
	}
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
//
// With Config.Generations, each call is decided and answered by the
// generation serving when it arrived, held to the end of the answer: a
// reload meanwhile changes nothing for it, and its key store stays open.
func (s *Service) Check(_ context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	x := exchangePool.Get().(*exchange)
	defer x.release()
	if s.gens == nil {
		return s.respond(s.fixed, s.decide(s.fixed, req, x), x), nil
	}
	g := s.gens.Acquire()
	defer g.Release()
	v := s.viewOf(g)
	return s.respond(v, s.decide(v, req, x), x), nil
}

// decide fills x from req and decides. It returns a Decision whose Denial
// is set for a request the adapter itself refuses.
func (s *Service) decide(v *view, req *authv3.CheckRequest, x *exchange) *authz.Decision {
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
	if !known && v.pol.NeedsPath() {
		return x.refuse(DenialNoPath)
	}
	if known && v.pol.NeedsPath() {
		var ok bool
		x.path, ok = authz.NormalizePath(x.path[:0], rawPath)
		if !ok {
			return x.refuse(authz.DenialURIEncoding)
		}
		x.req.Path = x.path
	}
	return v.pol.Decide(&x.req, v.verifier, &x.st)
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
func (v *view) payloadMetadata(d *authz.Decision) *structpb.Struct {
	if v.payloadNS == "" || d.Token == nil {
		return nil
	}
	claims := new(structpb.Struct)
	if err := protojson.Unmarshal(d.Token.Payload(), claims); err != nil {
		return nil
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{v.payloadNS: structpb.NewStructValue(claims)}}
}
