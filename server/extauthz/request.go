package extauthz

import (
	"strings"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"github.com/jwtgate/jwtgate/authz"
)

// DenialNoHTTP refuses a CheckRequest without HTTP request attributes
// (attributes.request.http): there is no request to decide on.
var DenialNoHTTP = authz.NewDenial(403, "", "no_http_request",
	"the CheckRequest carries no HTTP request (attributes.request.http): call jwtgate from Envoy's HTTP ext_authz filter (envoy.filters.http.ext_authz), not the network filter")

// DenialNoPath refuses a CheckRequest without the original request's path
// when the route rules match on paths.
var DenialNoPath = authz.NewDenial(403, "", "uri_unknown",
	"the CheckRequest carries no request path (attributes.request.http.path or the :path header): the route rules cannot be applied")

// checkHeaders reads the headers of a CheckRequest's HTTP request: the
// headers map (Envoy lower-cases the names and joins repeated headers with
// ","), or, when Envoy sends them that way (encode_raw_headers), the
// header_map. Names match case-insensitively; a name present twice in
// different cases yields both values.
type checkHeaders struct {
	m   map[string]string
	raw []*corev3.HeaderValue
}

var _ authz.HeaderSource = (*checkHeaders)(nil)

// set points h at the headers of http.
func (h *checkHeaders) set(http *authv3.AttributeContext_HttpRequest) {
	h.m = http.GetHeaders()
	h.raw = http.GetHeaderMap().GetHeaders()
}

// AppendValues appends the values of the header name.
func (h *checkHeaders) AppendValues(dst [][]byte, name string) [][]byte {
	for k, v := range h.m {
		if strings.EqualFold(k, name) {
			dst = append(dst, bytesOf(v))
		}
	}
	for _, hv := range h.raw {
		if hv == nil || !strings.EqualFold(hv.GetKey(), name) {
			continue
		}
		if v := hv.GetRawValue(); len(v) > 0 {
			dst = append(dst, v)
		} else {
			dst = append(dst, bytesOf(hv.GetValue()))
		}
	}
	return dst
}

// visitNames calls fn with the name of every header.
func (h *checkHeaders) visitNames(fn func(name string)) {
	for k := range h.m {
		fn(k)
	}
	for _, hv := range h.raw {
		if hv != nil {
			fn(hv.GetKey())
		}
	}
}

// attribute returns value, or when it is empty the first value of the
// header (pseudo-header) name.
func (h *checkHeaders) attribute(value, name string) []byte {
	if value != "" {
		return bytesOf(value)
	}
	var one [1][]byte
	if vals := h.AppendValues(one[:0], name); len(vals) > 0 {
		return vals[0]
	}
	return nil
}

// bytesOf returns the bytes of s without copying them. Decide only reads
// what the request holds, so the string's immutability is kept.
func bytesOf(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// splitTarget splits a request target (":path", which carries the query)
// into its path and query (a '#' left in the path is refused by
// authz.NormalizePath). known is false when there is no target.
func splitTarget(target []byte) (path, query []byte, known bool) {
	if len(target) == 0 {
		return nil, nil, false
	}
	for i, c := range target {
		if c == '?' {
			return target[:i], target[i+1:], true
		}
	}
	return target, nil, true
}
