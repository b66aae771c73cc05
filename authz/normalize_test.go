package authz

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizePath(t *testing.T) {
	cases := []struct {
		raw, want string // want "" for a refusal
	}{
		{"/", "/"},
		{"/admin", "/admin"},
		{"/admin/", "/admin/"},
		{"/admin/users", "/admin/users"},
		{"//admin", "/admin"},
		{"/a//b///c", "/a/b/c"},
		{"/public/../admin", "/admin"},
		{"/public/./admin", "/public/admin"},
		{"/../admin", "/admin"},
		{"/a/b/..", "/a/"},
		{"/a/.", "/a/"},
		{"/..", "/"},
		{"/%61dmin", "/admin"},
		{"/%41DMIN", "/ADMIN"},
		{"/admin%7e", "/admin~"},
		{"/my%20docs", "/my docs"},
		{"/caf%C3%A9", "/café"},
		{"/admin;jsessionid=1", "/admin;jsessionid=1"},
		{"/admin;x/../public", "/public"},
		{"/a%2ejson", "/a.json"},
		{"/...", "/..."},
		{"/.a/..b", "/.a/..b"},
		// Refused: the upstream could read another path.
		{"/public/..%2fadmin", ""},
		{"/public/..%2Fadmin", ""},
		{"/admin%2Fx", ""},
		{"/public/..%5cadmin", ""},
		{"/public/..\\admin", ""},
		{"/public/%2e%2e/admin", ""},
		{"/public/%2E%2E/admin", ""},
		{"/public/.%2e/admin", ""},
		{"/public/%2e/admin", ""},
		{"/public/..;/admin", ""},
		{"/public/..;x=1/admin", ""},
		{"/public/.;/admin", ""},
		{"/admin%00", ""},
		{"/admin\x00", ""},
		{"/admin%1f", ""},
		{"/admin%7f", ""},
		{"/admin\t", ""},
		{"/admin#x", ""},
		{"/public/%252e%252e/admin", ""},
		{"/admin%zz", ""},
		{"/admin%4", ""},
		{"/admin%", ""},
		{"/admin%g0", ""},
		{"/public/%c0%af../admin", ""},
		{"/%c0%ae%c0%ae/admin", ""},
		{"/admin\xff", ""},
		{"", ""},
		{"admin", ""},
	}
	for _, tc := range cases {
		got, ok := NormalizePath(nil, []byte(tc.raw))
		if tc.want == "" {
			if ok {
				t.Errorf("%q: %q, want a refusal", tc.raw, got)
			}
			continue
		}
		if !ok || string(got) != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.raw, got, ok, tc.want)
		}
	}
	// It appends: what dst holds is kept.
	if got, ok := NormalizePath([]byte("x"), []byte("/a/../b")); !ok || string(got) != "x/b" {
		t.Errorf("append: %q %v", got, ok)
	}
}

// FuzzNormalizePath: an accepted path is normalized for good — it starts
// with '/', has no empty, "." or ".." segment, no '%', '\', control
// character or invalid UTF-8, and normalizing it again changes nothing.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//a//b/", "/%2e%2e/x", "/a;b/..;/c", "/%c0%af", "/caf%C3%A9/./x", "/a%2fb"} {
		f.Add(s)
	}
	f.Add("/a/b?x=1&y=/../z")
	f.Add("/%2e%2e?q")
	f.Fuzz(func(t *testing.T, raw string) {
		checkNormalizeTarget(t, raw)
		out, ok := NormalizePath(nil, []byte(raw))
		if !ok {
			return
		}
		s := string(out)
		if s == "" || s[0] != '/' || strings.Contains(s, "//") || strings.ContainsAny(s, "%\\\x00\x7f") ||
			!utf8.ValidString(s) {
			t.Fatalf("%q: %q", raw, s)
		}
		for _, seg := range strings.Split(s[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q: %q has a dot segment", raw, s)
			}
		}
		for _, c := range out {
			if c < 0x20 {
				t.Fatalf("%q: %q has a control character", raw, s)
			}
		}
		// A decoded '#' is a character of the path; only a raw one (a
		// fragment to some upstreams) is refused.
		again, ok := NormalizePath(nil, []byte(strings.ReplaceAll(s, "#", "%23")))
		if !ok || string(again) != s {
			t.Fatalf("%q: %q, then %q %v", raw, s, again, ok)
		}
	})
}

// checkNormalizeTarget checks NormalizeTarget against its definition: the
// query split off at the first '?', the path before it normalized by
// NormalizePath.
func checkNormalizeTarget(t *testing.T, target string) {
	t.Helper()
	path, query, hasQuery := target, "", false
	if i := strings.IndexByte(target, '?'); i >= 0 {
		path, query, hasQuery = target[:i], target[i+1:], true
	}
	want, wantOK := NormalizePath([]byte("x"), []byte(path))
	got, q, ok := NormalizeTarget([]byte("x"), []byte(target))
	if ok != wantOK || ok && (string(got) != string(want) || string(q) != query || (q != nil) != hasQuery) {
		t.Fatalf("NormalizeTarget(%q) = %q, %q (query %v), %v; want %q, %q (query %v), %v",
			target, got, q, q != nil, ok, want, query, hasQuery, wantOK)
	}
}

// TestNormalizeTarget: NormalizeTarget splits the query off at the first
// '?' and normalizes the path before it exactly as NormalizePath does,
// plain paths and others alike; a '?' never hides a refusal or a dot
// segment in the path.
func TestNormalizeTarget(t *testing.T) {
	for _, target := range []string{
		"/", "/?", "/?q", "/a/b?x=1", "/a/b/?x", "/a?b?c", "/a?/../..", "/a?%zz", "/a/./b?x", "/a/../b?x",
		"/./?x", "/.?x", "//a?x", "/a//b?x", "/%2e%2e?x", "/a%2fb?x", "/a\\b?x", "/a#b?x", "/a;b/..;/c?x",
		"/caf%C3%A9?x", "/%c0%af?x", "/a\x00?x", "", "?x", "a?x", "/svc-49/orders/42?page=1", "/a;x?y",
	} {
		checkNormalizeTarget(t, target)
	}
	if _, _, ok := NormalizeTarget(nil, []byte("/%2e%2e/admin?x")); ok {
		t.Error("an escaped dot segment before the query is accepted")
	}
	if p, q, ok := NormalizeTarget(nil, []byte("/a/../admin?../x")); !ok || string(p) != "/admin" || string(q) != "../x" {
		t.Errorf("/a/../admin?../x: %q %q %v", p, q, ok)
	}
}

// TestNormalizeTargetEveryByte checks NormalizeTarget, which looks at
// eight bytes at a time, against its definition for every pair of bytes at
// every offset in and across its words, after a slash and after a letter.
func TestNormalizeTargetEveryByte(t *testing.T) {
	pad := strings.Repeat("x", 24)
	for off := 0; off < 9; off++ { // every lane, and across two words
		for _, before := range []string{"/", "x"} {
			head := "/" + pad[:off] + before
			for a := 0; a < 256; a++ {
				for b := 0; b < 256; b++ {
					checkNormalizeTarget(t, head+string([]byte{byte(a), byte(b)})+pad[:9])
				}
			}
		}
	}
}

// TestPlainPathEveryByte compares the table-driven plainPath with its
// definition for every pair of bytes after a slash and after a letter.
func TestPlainPathEveryByte(t *testing.T) {
	def := func(raw []byte) bool {
		for i := 1; i < len(raw); i++ {
			c := raw[i]
			if c <= 0x20 || c >= 0x7f || c == '%' || c == '\\' || c == '#' || raw[i-1] == '/' && (c == '/' || c == '.') {
				return false
			}
		}
		return true
	}
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			for _, raw := range [][]byte{{'/', byte(a), byte(b)}, {'/', 'x', byte(a), byte(b)}} {
				if got, want := plainPath(raw), def(raw); got != want {
					t.Fatalf("plainPath(%q) = %v, want %v", raw, got, want)
				}
			}
		}
	}
}
