package engine

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// decodeStrict runs b64Decode into fresh scratch with the slack it needs,
// behind a prefix that must survive.
func decodeStrict(src string) ([]byte, bool) {
	prefix := []byte("keep")
	n := len(src)*3/4 + 2
	dst := append(make([]byte, 0, len(prefix)+n), prefix...)
	out, ok := b64Decode(dst, []byte(src))
	if !bytes.Equal(out[:len(prefix)], prefix) {
		panic("b64Decode overwrote the bytes before dst's length")
	}
	if !ok {
		if len(out) != len(prefix) {
			panic("b64Decode failed but changed the length of dst")
		}
		return nil, false
	}
	return out[len(prefix):], true
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
		got, ok := decodeStrict(enc)
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
		if _, ok := decodeStrict(src); ok {
			t.Errorf("accepted %d characters (n%%4 == 1)", n)
		}
		if b64DecodedLen(n) != -1 {
			t.Errorf("b64DecodedLen(%d) = %d, want -1", n, b64DecodedLen(n))
		}
	}
}

// TestB64DecodeEveryForeignByte puts each byte outside the alphabet at every
// position of encodings long enough to use the 8-character loop, the
// 4-character loop and both tails.
func TestB64DecodeEveryForeignByte(t *testing.T) {
	bases := []string{
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklmn")),  // 32 chars: 8-char loop only
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklmno")), // 34: loops + 2-char tail
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghijklm")),   // 31: loops + 3-char tail
		base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdefghi")),       // 26: 8, 8, 4, 4, 2
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
				if got, ok := decodeStrict(src); ok {
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
// 3-character tails: only the ones whose unused bits are zero decode.
func TestB64DecodeCanonicalTail(t *testing.T) {
	for _, prefix := range []string{"", "AAAA", "AAAAAAAA", "AAAAAAAAAAAA"} {
		for v := range 64 {
			for _, tail := range []struct {
				src    string
				unused int
			}{
				{prefix + "Q" + string(b64Alphabet[v]), 0x0f},
				{prefix + "QQ" + string(b64Alphabet[v]), 0x03},
			} {
				_, ok := decodeStrict(tail.src)
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
	for _, src := range []string{
		"QQ==", "QUE=", "QQ", "QUE", "QUFB",
		"QQ=", "=QQ", "Q Q", " QQ", "QQ ", "QQ\n", "Q\rQ", "QQ\t", "QQ\x00",
		"QU+B", "QU/B", "QUFB+A", "QUFB%2F",
		"QUFBQUFB\n", "QUFB\r\nQUFB", "QUFBQUFBQUFBQUFB=",
		"QUFBQUFBQUFBQUFB\xc3\xa9", "\xef\xbb\xbfQUFB",
	} {
		got, ok := decodeStrict(src)
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
	for range 200000 {
		n := r.IntN(40)
		b := make([]byte, n)
		for i := range b {
			if r.IntN(20) == 0 {
				b[i] = chars[r.IntN(len(chars))]
			} else {
				b[i] = b64Alphabet[r.IntN(64)]
			}
		}
		got, ok := decodeStrict(string(b))
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

func TestB64DecodeNeverGrows(t *testing.T) {
	src := []byte(base64.RawURLEncoding.EncodeToString([]byte("exactly eighteen b")))
	n := b64DecodedLen(len(src))
	for c := 0; c < n+2; c++ {
		dst := make([]byte, 0, c)
		if out, ok := b64Decode(dst, src); ok || cap(out) != c {
			t.Errorf("cap %d (< %d needed): ok = %v, cap after = %d", c, n+2, ok, cap(out))
		}
	}
	if out, ok := b64Decode(make([]byte, 0, n+2), src); !ok || string(out) != "exactly eighteen b" {
		t.Errorf("cap n+2: %q, %v", out, ok)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		dst := make([]byte, 0, 64)
		b64Decode(dst, src)
	}); allocs != 0 {
		t.Errorf("b64Decode allocates %v times", allocs)
	}
}
