package server

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestFastHeaders: one pass finds every value of the headers named, in
// whatever case the request spells them, and only those; names of any
// length, cookies included.
func TestFastHeaders(t *testing.T) {
	long := "X-" + strings.Repeat("Long", 20)
	names := newHeaderNames("x-api-token", long)
	var h fasthttp.RequestHeader
	h.Set("authorization", "Bearer a")
	h.Add("AUTHORIZATION", "Bearer b")
	h.Set("x-forwarded-uri", "/x")
	h.Set("X-API-TOKEN", "t")
	h.Set(strings.ToLower(long), "l")
	h.Set("X-Other", "o")
	h.SetCookie("session", "c")
	var s fastHeaders
	s.reset(names, &h)
	got := func(name string) string {
		var parts []string
		for _, v := range s.AppendValues(nil, name) {
			parts = append(parts, string(v))
		}
		return strings.Join(parts, "|")
	}
	for name, want := range map[string]string{
		"Authorization": "Bearer a|Bearer b", "X-Api-Token": "t", long: "l", "Cookie": "session=c",
		"X-Other": "o", "Origin": "",
	} {
		if g := got(name); g != want {
			t.Errorf("%s: %q, want %q", name, g, want)
		}
	}
	if string(s.first(hForwardedURI)) != "/x" || s.first(hOriginalURI) != nil {
		t.Errorf("first: %q %q", s.first(hForwardedURI), s.first(hOriginalURI))
	}
	// firstTwo agrees with first for each of the two, in either order.
	for _, p := range [][2]uint8{{hAuthorization, hForwardedURI}, {hForwardedURI, hAuthorization}, {hOriginalURI, hAuthorization}, {hCookie, hOriginalURI}} {
		a, b := s.firstTwo(p[0], p[1])
		if string(a) != string(s.first(p[0])) || (a == nil) != (s.first(p[0]) == nil) ||
			string(b) != string(s.first(p[1])) || (b == nil) != (s.first(p[1]) == nil) {
			t.Errorf("firstTwo(%d, %d): %q %q, want %q %q", p[0], p[1], a, b, s.first(p[0]), s.first(p[1]))
		}
	}
}
