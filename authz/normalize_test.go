package authz

import (
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	cases := map[string]string{
		"":                  "/",
		"/":                 "/",
		"/a/b":              "/a/b",
		"/a/b/":             "/a/b/",
		"a/b":               "/a/b",
		"//admin":           "/admin",
		"/a//b///c":         "/a/b/c",
		"/public/../admin":  "/admin",
		"/../admin":         "/admin",
		"/a/./b":            "/a/b",
		"/a/.":              "/a/",
		"/a/..":             "/",
		"/a/b/..":           "/a/",
		"/a/b/../..":        "/",
		"/a/b/../../..":     "/",
		"/%61dmin":          "/admin",
		"/admin%2Fx":        "/admin/x",
		"/x/%2e%2e/admin":   "/admin",
		"/x/%2E%2E%2Fadmin": "/admin",
		"/public/..;/admin": "/admin",
		"/public/.;x/admin": "/public/admin",
		"/a/.hidden":        "/a/.hidden",
		"/a/...":            "/a/...",
		"/a/..b":            "/a/..b",
		"/bad%zz%4":         "/bad%zz%4",
		"/sp%20ace+plus":    "/sp ace+plus",
		"/a;x=1/b":          "/a;x=1/b",
	}
	for in, want := range cases {
		if got := string(NormalizePath(nil, []byte(in))); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
		// Appends: what is in dst stays.
		if got := string(NormalizePath([]byte("keep"), []byte(in))); got != "keep"+want {
			t.Errorf("%q appended: %q", in, got)
		}
	}
}

// FuzzNormalizePath: the result starts with '/', has no empty, "." or ".."
// segment, and normalizing it again changes nothing once its '%' are
// escaped.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/a/../b", "//x/./y/", "/%2e%2e/%2f", "/..;/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := NormalizePath(nil, []byte(raw))
		if len(out) == 0 || out[0] != '/' {
			t.Fatalf("%q: %q", raw, out)
		}
		segs := strings.Split(string(out[1:]), "/")
		for i, s := range segs {
			if s == "" && i != len(segs)-1 || dotSegment([]byte(s)) != 0 {
				t.Fatalf("%q: %q has segment %q", raw, out, s)
			}
		}
		again := NormalizePath(nil, []byte(strings.ReplaceAll(string(out), "%", "%25")))
		if string(again) != string(out) {
			t.Fatalf("%q: %q, then %q", raw, out, again)
		}
	})
}
