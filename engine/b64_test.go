package engine

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/cputime"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64Impl is one decoder under test, in b64DecodePlain's shape.
type b64Impl struct {
	name   string
	decode func(dst, src []byte) (out []byte, plain, ok bool)
}

// b64Impls returns every decoder the b64 tests run: the pure-Go reference
// (called directly, so that every build compares it with the kernel) and
// the entry points the engine calls, which run the AVX2 kernel for 32
// characters and more on a CPU that has it, unless built with -tags purego.
func b64Impls() []b64Impl {
	return []b64Impl{
		{"go", b64DecodePlainGo},
		{"go/b64DecodeGo", withNaivePlain(b64DecodeGo)},
		{"b64DecodePlain", b64DecodePlain},
		{"b64Decode", withNaivePlain(b64Decode)},
	}
}

// withNaivePlain gives a decoder without classification b64DecodePlain's
// shape, classifying the result byte by byte.
func withNaivePlain(decode func(dst, src []byte) ([]byte, bool)) func(dst, src []byte) ([]byte, bool, bool) {
	return func(dst, src []byte) ([]byte, bool, bool) {
		start := len(dst)
		out, ok := decode(dst, src)
		return out, ok && naivePlain(out[start:]), ok
	}
}

// naivePlain is plainASCII one byte at a time.
func naivePlain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}

// guardByte fills the bytes before dst's length and past its capacity, which
// a decoder must not touch.
const guardByte = 0xa5

// decodeChecked runs one decoder behind a prefix of prefixLen bytes, into a
// dst whose capacity is exactly what the contract asks for (the result plus
// 2), inside a larger array whose bytes past that capacity must survive. It
// fails tb when the decoder breaks its contract, and returns what it decoded.
func decodeChecked(tb testing.TB, impl b64Impl, src []byte, prefixLen int) (got []byte, plain, ok bool) {
	tb.Helper()
	room := max(b64DecodedLen(len(src)), 0) + 2
	backing := bytes.Repeat([]byte{guardByte}, prefixLen+room+40)
	dst := backing[: prefixLen : prefixLen+room]
	out, plain, ok := impl.decode(dst, src)
	for i, c := range backing[:prefixLen] {
		if c != guardByte {
			tb.Fatalf("%s(%q): overwrote byte %d of the %d before dst's length", impl.name, src, i, prefixLen)
		}
	}
	for i, c := range backing[prefixLen+room:] {
		if c != guardByte {
			tb.Fatalf("%s(%q): wrote byte %d past dst's capacity", impl.name, src, i)
		}
	}
	if cap(out) != cap(dst) || (len(out) > 0 && &out[0] != &dst[:1][0]) {
		tb.Fatalf("%s(%q): out is not dst's array", impl.name, src)
	}
	if !ok {
		if len(out) != prefixLen || plain {
			tb.Fatalf("%s(%q) failed with len(out) = %d (want %d), plain = %v", impl.name, src, len(out), prefixLen, plain)
		}
		return nil, false, false
	}
	got = out[prefixLen:]
	if want := naivePlain(got); plain != want {
		tb.Fatalf("%s(%q) = %x: plain = %v, want %v", impl.name, src, got, plain, want)
	}
	return got, plain, true
}

// decodeAll runs every decoder on src and fails tb unless they all agree;
// it returns their common result.
func decodeAll(tb testing.TB, src []byte, prefixLen int) ([]byte, bool) {
	tb.Helper()
	var want []byte
	var wantOK bool
	for i, impl := range b64Impls() {
		got, _, ok := decodeChecked(tb, impl, src, prefixLen)
		if i == 0 {
			want, wantOK = got, ok
			continue
		}
		if ok != wantOK || !bytes.Equal(got, want) {
			tb.Fatalf("decode(%q) behind %d bytes: %s = %x, %v; go = %x, %v", src, prefixLen, impl.name, got, ok, want, wantOK)
		}
	}
	return want, wantOK
}

// decodeStrict is decodeAll behind a 4-byte prefix; t is the failing test.
func decodeStrict(t *testing.T, src string) ([]byte, bool) {
	t.Helper()
	return decodeAll(t, []byte(src), 4)
}

// referenceDecode is encoding/base64's strict unpadded URL decoding, minus
// its one leniency: it skips '\r' and '\n' anywhere, which jwtgate rejects.
func referenceDecode(src string) ([]byte, bool) {
	if strings.ContainsAny(src, "\r\n") {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(src)
	if err != nil {
		return nil, false
	}
	return b, true
}

func TestB64DecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 600; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		enc := base64.RawURLEncoding.EncodeToString(data)
		got, ok := decodeStrict(t, enc)
		if !ok || !bytes.Equal(got, data) {
			t.Fatalf("len %d: decode(%q) = %x, %v; want %x", n, enc, got, ok, data)
		}
		if b64DecodedLen(len(enc)) != n {
			t.Fatalf("b64DecodedLen(%d) = %d, want %d", len(enc), b64DecodedLen(len(enc)), n)
		}
	}
}

func TestB64DecodeImpossibleLengths(t *testing.T) {
	for n := 1; n < 200; n += 4 {
		src := strings.Repeat("A", n)
		if _, ok := decodeStrict(t, src); ok {
			t.Errorf("accepted %d characters (n%%4 == 1)", n)
		}
		if b64DecodedLen(n) != -1 {
			t.Errorf("b64DecodedLen(%d) = %d, want -1", n, b64DecodedLen(n))
		}
	}
}

// TestB64DecodeEveryForeignByte puts each byte outside the alphabet at every
// position of encodings long enough to use the 8-character loop, the
// 4-character loop and both tails, and the vector kernel's one and two
// 32-character blocks with every kind of tail.
func TestB64DecodeEveryForeignByte(t *testing.T) {
	bases := []string{
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklmn")),                           // 32 chars: 8-char loop only
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklmno")),                          // 34: loops + 2-char tail
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklm")),                            // 31: loops + 3-char tail
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghi")),                                // 26: 8, 8, 4, 4, 2
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL")),   // 64: two blocks
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN")), // 68: two blocks + 4
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM")),  // 67: two blocks + 3
		"AA", "AAA", "AAAA",
	}
	foreign := 0
	for c := 0; c < 256; c++ {
		if strings.IndexByte(b64Alphabet, byte(c)) >= 0 {
			continue
		}
		foreign++
		for _, base := range bases {
			for pos := range len(base) {
				src := base[:pos] + string([]byte{byte(c)}) + base[pos+1:]
				if got, ok := decodeStrict(t, src); ok {
					t.Fatalf("accepted byte %#02x at %d of %q: %x", c, pos, base, got)
				}
			}
		}
	}
	if foreign != 256-64 {
		t.Fatalf("%d foreign bytes, want 192", foreign)
	}
}

// TestB64DecodeCanonicalTail checks every final character of the 2- and
// 3-character tails: only the ones whose unused bits are zero decode. The
// prefixes put the tails after none, one and two 32-character blocks.
func TestB64DecodeCanonicalTail(t *testing.T) {
	for _, prefix := range []string{
		"", "AAAA", "AAAAAAAA", "AAAAAAAAAAAA",
		strings.Repeat("_-Az", 8), strings.Repeat("_-Az", 9), strings.Repeat("Zz09", 16), strings.Repeat("Zz09", 17),
	} {
		for v := range 64 {
			for _, tail := range []struct {
				src    string
				unused int
			}{
				{prefix + "Q" + string(b64Alphabet[v]), 0x0f},
				{prefix + "QQ" + string(b64Alphabet[v]), 0x03},
			} {
				_, ok := decodeStrict(t, tail.src)
				if want := v&tail.unused == 0; ok != want {
					t.Errorf("decode(%q) ok = %v, want %v", tail.src, ok, want)
				}
				if _, refOK := referenceDecode(tail.src); refOK != ok {
					t.Errorf("decode(%q) ok = %v, encoding/base64 strict says %v", tail.src, ok, refOK)
				}
			}
		}
	}
}

func TestB64DecodeRejectsPaddingAndWhitespace(t *testing.T) {
	long := strings.Repeat("QUFB", 8) // one 32-character block
	for _, src := range []string{
		"QQ==", "QUE=", "QQ", "QUE", "QUFB",
		"QQ=", "=QQ", "Q Q", " QQ", "QQ ", "QQ\n", "Q\rQ", "QQ\t", "QQ\x00",
		"QU+B", "QU/B", "QUFB+A", "QUFB%2F",
		"QUFBQUFB\n", "QUFB\r\nQUFB", "QUFBQUFBQUFBQUFB=",
		"QUFBQUFBQUFBQUFB\xc3\xa9", "\xef\xbb\xbfQUFB",
		long + "QQ==", long + "QUE=", long[:31] + "=", long[:30] + "==", long + "\n", "\n" + long, long + "\r\n" + long,
		long[:16] + " " + long[17:], long[:20] + "+" + long[21:], long[:31] + "/",
	} {
		got, ok := decodeStrict(t, src)
		want, wantOK := referenceDecode(src)
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Errorf("decode(%q) = %q, %v; reference %q, %v", src, got, ok, want, wantOK)
		}
	}
}

// TestB64DecodeAgreesWithReference compares random near-alphabet strings
// with encoding/base64's strict decoder.
func TestB64DecodeAgreesWithReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const chars = b64Alphabet + "=+/ \r\n.\x00\xff"
	accepted := 0
	for range 100000 {
		n := r.IntN(100)
		b := make([]byte, n)
		for i := range b {
			if r.IntN(60) == 0 {
				b[i] = chars[r.IntN(len(chars))]
			} else {
				b[i] = b64Alphabet[r.IntN(64)]
			}
		}
		got, ok := decodeAll(t, b, r.IntN(40))
		want, wantOK := referenceDecode(string(b))
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("decode(%q) = %x, %v; reference %x, %v", b, got, ok, want, wantOK)
		}
		if ok {
			accepted++
		}
	}
	if accepted < 10000 {
		t.Fatalf("only %d of the random inputs decoded: the comparison proves little", accepted)
	}
}

// TestB64DecodeHostileBlocks puts one byte of each class just outside the
// alphabet's ranges (and the alphabet's neighbours and separators) at every
// position of encodings that end inside, at and just past one and two
// 32-character blocks: every decoder must refuse it. It then checks that a
// non-canonical last character is refused after any number of blocks.
func TestB64DecodeHostileBlocks(t *testing.T) {
	hostile := []byte{
		'=', '+', '/', ' ', '\r', '\n', '\t', 0x00, 0x80, 0xff, 0x7f, '.',
		'A' - 1, 'Z' + 1, 'a' - 1, 'z' + 1, '0' - 1, '9' + 1, '-' - 1, '-' + 1, '_' - 1, '_' + 1,
		'A' + 0x80, 'z' + 0x80, '_' + 0x80, '-' + 0x80, '0' + 0x80, 'A' - 0x40, 'a' - 0x40,
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{31, 32, 33, 34, 35, 36, 40, 63, 64, 65, 66, 67, 68, 72, 95, 96, 100} {
		base := make([]byte, n)
		for i := range base {
			base[i] = b64Alphabet[r.IntN(64)]
		}
		if n%4 >= 2 { // a canonical tail: its unused bits zero
			unused := map[int]int{2: 0x0f, 3: 0x03}[n%4]
			base[n-1] = b64Alphabet[strings.IndexByte(b64Alphabet, base[n-1])&^unused]
		}
		if _, ok := decodeAll(t, base, 3); ok != (n%4 != 1) {
			t.Fatalf("length %d: ok = %v for a valid encoding", n, ok)
		}
		for pos := range n {
			for _, c := range hostile {
				src := bytes.Clone(base)
				src[pos] = c
				if got, ok := decodeAll(t, src, pos%8); ok {
					t.Fatalf("length %d: accepted %#02x at %d: %x", n, c, pos, got)
				}
			}
		}
		if n%4 >= 2 {
			unused := map[int]int{2: 0x0f, 3: 0x03}[n%4]
			for v := range 64 {
				src := bytes.Clone(base)
				src[n-1] = b64Alphabet[v]
				if _, ok := decodeAll(t, src, 0); ok != (v&unused == 0) {
					t.Fatalf("length %d ending in %q: ok = %v", n, src[n-1], ok)
				}
			}
		}
	}
}

// TestB64DecodeDifferential runs every decoder on every length from 0 to
// 600: random bytes encoded, then the same with one character replaced by a
// random byte, behind prefixes of 0 to 39 bytes.
func TestB64DecodeDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 600; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		enc := []byte(base64.RawURLEncoding.EncodeToString(data))
		if got, ok := decodeAll(t, enc, r.IntN(40)); !ok || !bytes.Equal(got, data) {
			t.Fatalf("len %d: decode(%q) = %x, %v; want %x", n, enc, got, ok, data)
		}
		if len(enc) == 0 {
			continue
		}
		for range 4 {
			src := bytes.Clone(enc)
			src[r.IntN(len(src))] = byte(r.Uint32())
			got, ok := decodeAll(t, src, r.IntN(40))
			want, wantOK := referenceDecode(string(src))
			if ok != wantOK || !bytes.Equal(got, want) {
				t.Fatalf("decode(%q) = %x, %v; reference %x, %v", src, got, ok, want, wantOK)
			}
		}
	}
}

// TestB64DecodePlain places each byte value at every position of decoded
// text that is otherwise plain, across one and two 24-byte blocks and the
// tails after them, and checks every decoder's plain against the byte's
// class.
func TestB64DecodePlain(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 23, 24, 25, 30, 47, 48, 49, 53, 72} {
		text := bytes.Repeat([]byte("a Z~"), n)[:n]
		for pos := range n {
			for v := range 256 {
				data := bytes.Clone(text)
				data[pos] = byte(v)
				src := []byte(base64.RawURLEncoding.EncodeToString(data))
				for _, impl := range b64Impls() {
					got, plain, ok := decodeChecked(t, impl, src, 0)
					if !ok || !bytes.Equal(got, data) {
						t.Fatalf("%s(%q) = %x, %v; want %x", impl.name, src, got, ok, data)
					}
					want := v >= 0x20 && v <= 0x7e && v != '\\'
					if plain != want {
						t.Fatalf("%s: %d bytes with %#02x at %d: plain = %v, want %v", impl.name, n, v, pos, plain, want)
					}
				}
			}
		}
	}
}

// TestPlainASCII compares the SWAR test with the byte loop on every pair of
// byte values, at every alignment of an 8-byte word and its tail.
func TestPlainASCII(t *testing.T) {
	buf := bytes.Repeat([]byte{'x'}, 19)
	for a := range 256 {
		for b := range 256 {
			for _, pos := range []int{0, 3, 7, 8, 14, 16, 17} {
				buf[pos], buf[pos+1] = byte(a), byte(b)
				for _, n := range []int{pos + 2, 19} {
					if got, want := plainASCII(buf[:n]), naivePlain(buf[:n]); got != want {
						t.Fatalf("plainASCII(%q) = %v, want %v", buf[:n], got, want)
					}
				}
				buf[pos], buf[pos+1] = 'x', 'x'
			}
		}
	}
}

func TestB64DecodeNeverGrows(t *testing.T) {
	for _, text := range []string{"exactly eighteen b", "forty-two bytes, one block and a tail: ok"} {
		src := []byte(base64.RawURLEncoding.EncodeToString([]byte(text)))
		n := b64DecodedLen(len(src))
		for _, impl := range b64Impls() {
			for c := 0; c < n+2; c++ {
				dst := make([]byte, 0, c)
				if out, _, ok := impl.decode(dst, src); ok || cap(out) != c {
					t.Errorf("%s: cap %d (< %d needed): ok = %v, cap after = %d", impl.name, c, n+2, ok, cap(out))
				}
			}
			if out, _, ok := impl.decode(make([]byte, 0, n+2), src); !ok || string(out) != text {
				t.Errorf("%s: cap n+2: %q, %v", impl.name, out, ok)
			}
			scratch := make([]byte, 0, 64)
			if allocs := testing.AllocsPerRun(100, func() {
				impl.decode(scratch, src)
			}); allocs != 0 {
				t.Errorf("%s allocates %v times", impl.name, allocs)
			}
		}
	}
}

// TestTokenDecodePlain checks that decodePlain appends to the scratch memory
// exactly as decode does, and classifies what it decoded.
func TestTokenDecodePlain(t *testing.T) {
	for _, text := range []string{`{"sub":"1234567890","name":"John Doe","iat":1516239022}`, `{"name":"Jos\u00e9"}`, "{\"name\":\"Jos\xc3\xa9\"}", `{}`} {
		seg := []byte(base64.RawURLEncoding.EncodeToString([]byte(text)))
		var a, b Token
		a.grow(200)
		b.grow(200)
		a.buf = append(a.buf, "scratch"...)
		b.buf = append(b.buf, "scratch"...)
		want, ok := a.decode(seg)
		if !ok || string(want) != text {
			t.Fatalf("decode(%q) = %q, %v", seg, want, ok)
		}
		got, plain, ok := b.decodePlain(seg)
		if !ok || string(got) != text || string(b.buf) != string(a.buf) || cap(got) != len(got) {
			t.Fatalf("decodePlain(%q) = %q, %v; scratch %q, want %q", seg, got, ok, b.buf, a.buf)
		}
		if want := naivePlain([]byte(text)); plain != want {
			t.Errorf("decodePlain(%q): plain = %v, want %v", text, plain, want)
		}
	}
	var tok Token
	tok.grow(64)
	tok.buf = append(tok.buf, "scratch"...)
	if out, plain, ok := tok.decodePlain([]byte("e30=")); ok || plain || out != nil || string(tok.buf) != "scratch" {
		t.Errorf("decodePlain of padding: %q, %v, %v; scratch %q", out, plain, ok, tok.buf)
	}
}

// FuzzB64DecodeAsm checks, for any input and dst prefix, that every decoder
// (the AVX2 kernel where it runs, the dispatched entry points and the pure-Go
// reference) returns the same bytes, ok and plain, that none writes outside
// its room, and that they agree with encoding/base64's strict decoder.
func FuzzB64DecodeAsm(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 2, 3, 23, 24, 25, 26, 47, 48, 49, 50, 96, 300, 450} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		enc := []byte(base64.RawURLEncoding.EncodeToString(data))
		f.Add(enc, uint8(n))
		f.Add([]byte(base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("plain text "), n/11+1))), uint8(0))
		if len(enc) > 33 {
			bad := bytes.Clone(enc)
			bad[33] = '='
			f.Add(bad, uint8(1))
		}
	}
	f.Add([]byte(strings.Repeat("_-", 20)+"\n"), uint8(7))
	f.Fuzz(func(t *testing.T, src []byte, prefix uint8) {
		got, ok := decodeAll(t, src, int(prefix%48))
		want, wantOK := referenceDecode(string(src))
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Fatalf("decode(%q) = %x, %v; encoding/base64 %x, %v", src, got, ok, want, wantOK)
		}
	})
}

// BenchmarkB64Decode measures strict decoding of random bytes' encodings by
// the pure-Go code (impl=go) and by what b64Decode and b64DecodePlain run on
// this build and CPU (impl=dispatch: the AVX2 kernel for 32 characters and
// more where the CPU has it); size is the encoded length. cpu-ns/op is the
// benchmark thread's CPU time per decoding, which other processes on a busy
// machine do not inflate as they do ns/op.
func BenchmarkB64Decode(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, size := range []int{32, 43, 64, 256, 1024} {
		data := make([]byte, b64DecodedLen(size))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		src := []byte(base64.RawURLEncoding.EncodeToString(data))
		if len(src) != size {
			b.Fatalf("%d bytes encode to %d characters, not %d", len(data), len(src), size)
		}
		dst := make([]byte, 0, size)
		for _, impl := range []struct {
			name   string
			decode func(dst, src []byte) ([]byte, bool)
			plain  func(dst, src []byte) ([]byte, bool, bool)
		}{
			{"go", b64DecodeGo, b64DecodePlainGo},
			{"dispatch", b64Decode, b64DecodePlain},
		} {
			b.Run(fmt.Sprintf("size=%d/impl=%s", size, impl.name), func(b *testing.B) {
				b.SetBytes(int64(size))
				defer reportThreadCPU(b)()
				for b.Loop() {
					if _, ok := impl.decode(dst, src); !ok {
						b.Fatal("rejected")
					}
				}
			})
			b.Run(fmt.Sprintf("size=%d/impl=%s/plain", size, impl.name), func(b *testing.B) {
				b.SetBytes(int64(size))
				defer reportThreadCPU(b)()
				for b.Loop() {
					if _, _, ok := impl.plain(dst, src); !ok {
						b.Fatal("rejected")
					}
				}
			})
		}
	}
}

// reportThreadCPU locks b's goroutine to its thread and returns the function
// that reports, at the end of b, the thread's CPU time per iteration as
// cpu-ns/op (where the system tells it) and unlocks the thread.
func reportThreadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	start := cputime.Thread()
	return func() {
		if end := cputime.Thread(); start >= 0 && end >= 0 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
		runtime.UnlockOSThread()
	}
}
