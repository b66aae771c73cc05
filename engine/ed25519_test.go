package engine

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"filippo.io/edwards25519"
)

// The verdict of edKey.verify must equal crypto/ed25519.Verify's on every
// input. These tests check known answers (RFC 8032 §7.1), Wycheproof's edge
// cases, small-order and non-canonical encodings of keys and of R, scalars
// around the group order, and random signatures; fuzz_test.go searches for
// the rest.

// stdVerify is crypto/ed25519.Verify without its panic on a key of the wrong
// length.
func stdVerify(pub, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
}

// edVerify is edKey.verify for raw key bytes: false when they do not decode.
func edVerify(pub, msg, sig []byte) bool {
	k, err := newEdKey(pub)
	return err == nil && k.verify(msg, sig)
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	if s == "-" {
		return []byte{}
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEd25519RFC8032(t *testing.T) {
	f, err := os.Open("testdata/rfc8032/ed25519.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 5 {
			t.Fatalf("malformed vector line %q", line)
		}
		name := fields[0]
		seed, pub, msg, sig := mustHex(t, fields[1]), mustHex(t, fields[2]), mustHex(t, fields[3]), mustHex(t, fields[4])
		priv := ed25519.NewKeyFromSeed(seed)
		if got := priv.Public().(ed25519.PublicKey); !bytes.Equal(got, pub) {
			t.Fatalf("%s: the vector's public key does not belong to its secret key", name)
		}
		if !bytes.Equal(ed25519.Sign(priv, msg), sig) {
			t.Fatalf("%s: the vector's signature is not the one RFC 8032 signing makes", name)
		}
		if !edVerify(pub, msg, sig) {
			t.Errorf("%s: valid signature rejected", name)
		}
		key, err := NewKey(EdDSA, name, ed25519.PublicKey(pub))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := key.Verify(msg, sig); err != nil {
			t.Errorf("%s: Key.Verify: %v", name, err)
		}
		for _, i := range []int{0, 31, 32, 63} {
			bad := bytes.Clone(sig)
			bad[i] ^= 0x01
			if edVerify(pub, msg, bad) {
				t.Errorf("%s: signature with byte %d changed accepted", name, i)
			}
		}
		if edVerify(pub, append(bytes.Clone(msg), 0), sig) {
			t.Errorf("%s: signature accepted for a longer message", name)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("read %d vectors, want 5", n)
	}
}

type wycheproofFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		PublicKey struct {
			PK string `json:"pk"`
		} `json:"publicKey"`
		Tests []wycheproofCase `json:"tests"`
	} `json:"testGroups"`
}

// wycheproofCase is one signature test of a Wycheproof vector file: msg and
// sig in hex, result "valid", "invalid" or "acceptable".
type wycheproofCase struct {
	TCID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Msg     string   `json:"msg"`
	Sig     string   `json:"sig"`
	Result  string   `json:"result"`
}

// TestEd25519Wycheproof runs testdata/wycheproof/ed25519_test.json (see the
// README beside it) through edKey.verify, through a loaded Key, and through
// crypto/ed25519: all three must agree with each other and with the vector.
func TestEd25519Wycheproof(t *testing.T) {
	raw, err := os.ReadFile("testdata/wycheproof/ed25519_test.json")
	if err != nil {
		t.Fatal(err)
	}
	var file wycheproofFile
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range file.TestGroups {
		pub := mustHex(t, g.PublicKey.PK)
		key, keyErr := NewKey(EdDSA, "", ed25519.PublicKey(pub))
		for _, tc := range g.Tests {
			n++
			msg, sig := mustHex(t, tc.Msg), mustHex(t, tc.Sig)
			std := stdVerify(pub, msg, sig)
			got := edVerify(pub, msg, sig)
			if got != std {
				t.Errorf("tcId %d (%s %v): verify %v, crypto/ed25519 %v", tc.TCID, tc.Comment, tc.Flags, got, std)
			}
			switch tc.Result {
			case "valid", "invalid":
				if want := tc.Result == "valid"; got != want {
					t.Errorf("tcId %d (%s %v): verify %v, want %s", tc.TCID, tc.Comment, tc.Flags, got, tc.Result)
				}
			case "acceptable": // either verdict, as long as it is stdlib's
			default:
				t.Fatalf("tcId %d: unknown result %q", tc.TCID, tc.Result)
			}
			if keyErr == nil {
				if viaKey := key.Verify(msg, sig) == nil; viaKey != std {
					t.Errorf("tcId %d (%s %v): Key.Verify %v, crypto/ed25519 %v", tc.TCID, tc.Comment, tc.Flags, viaKey, std)
				}
			}
		}
	}
	if n != file.NumberOfTests || n == 0 {
		t.Fatalf("ran %d tests, the file declares %d", n, file.NumberOfTests)
	}
}

// smallOrderEncodings returns the encodings of the eight points of small
// order, with the non-canonical ones (y ≥ p, or x = 0 with the sign bit set)
// that decoders following edwards25519's rules accept. Each is checked to
// decode to a point P with [8]P = identity.
func smallOrderEncodings(tb testing.TB) [][]byte {
	tb.Helper()
	hexes := []string{
		"0100000000000000000000000000000000000000000000000000000000000000", // identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2: y = -1
		"0000000000000000000000000000000000000000000000000000000000000000", // order 4: y = 0
		"0000000000000000000000000000000000000000000000000000000000000080",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		"0100000000000000000000000000000000000000000000000000000000000080", // identity, x = 0 with sign: non-canonical
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // y = -1, x = 0 with sign
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1 ≡ 1
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p ≡ 0
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	}
	identity := edwards25519.NewIdentityPoint()
	var out [][]byte
	for _, h := range hexes {
		b, err := hex.DecodeString(h)
		if err != nil {
			tb.Fatal(err)
		}
		p, err := new(edwards25519.Point).SetBytes(b)
		if err != nil {
			tb.Fatalf("%s does not decode: %v", h, err)
		}
		if p.MultByCofactor(p).Equal(identity) != 1 {
			tb.Fatalf("%s is not of small order", h)
		}
		out = append(out, b)
	}
	return out
}

// seededKey returns the key pair derived from a seed of 32 bytes n.
func seededKey(n byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

// edgeScalars returns S values around 0 and the group order l, and with the
// top bits set, little-endian.
func edgeScalars() [][]byte {
	l, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	add := func(v []byte, d int) []byte { // |d| small, no borrow past byte 0 for l
		out := bytes.Clone(v)
		out[0] = byte(int(out[0]) + d)
		return out
	}
	zero := make([]byte, 32)
	high := bytes.Repeat([]byte{0xff}, 32)
	top := make([]byte, 32)
	top[31] = 0x20
	return [][]byte{zero, add(zero, 1), add(l, -1), l, add(l, 1), add(l, 2), high, top}
}

// TestEd25519EdgeCasesMatchStdlib crosses small-order and non-canonical keys
// and R values, S around the group order, and a real key and signature, and
// requires stdlib's verdict for every combination. Several of them are valid
// (the identity as both key and R with S = 0), so this checks more than
// rejections.
func TestEd25519EdgeCasesMatchStdlib(t *testing.T) {
	small := smallOrderEncodings(t)
	pub, priv := seededKey(1)
	msg := []byte("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJlZGdlIn0")
	valid := ed25519.Sign(priv, msg)
	keys := append(append([][]byte(nil), small...), pub)
	rs := append(append([][]byte(nil), small...), valid[:32])
	ss := append(edgeScalars(), valid[32:])
	accepted := 0
	for _, k := range keys {
		key, err := newEdKey(k)
		if err != nil {
			t.Fatalf("key %x: %v", k, err)
		}
		for _, r := range rs {
			for _, s := range ss {
				sig := append(bytes.Clone(r), s...)
				std := stdVerify(k, msg, sig)
				if got := key.verify(msg, sig); got != std {
					t.Errorf("key %x R %x S %x: verify %v, crypto/ed25519 %v", k, r, s, got, std)
				}
				if std {
					accepted++
				}
			}
		}
	}
	t.Logf("%d combinations valid", accepted)
	if accepted < 2 { // the real signature, and identity/identity/0 at least
		t.Fatalf("only %d combinations valid: the test no longer covers acceptance", accepted)
	}
}

// TestEd25519RandomMatchesStdlib verifies random signatures, and the same
// with one bit flipped, against crypto/ed25519.
func TestEd25519RandomMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{2}))
	for i := range 300 {
		pub, priv := seededKey(byte(i))
		msg := make([]byte, rng.IntN(600))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		sig := ed25519.Sign(priv, msg)
		if !edVerify(pub, msg, sig) {
			t.Fatalf("%d: valid signature rejected", i)
		}
		bit := rng.IntN(64 * 8)
		sig[bit/8] ^= 1 << (bit % 8)
		if got, std := edVerify(pub, msg, sig), stdVerify(pub, msg, sig); got != std {
			t.Fatalf("%d: bit %d flipped: verify %v, crypto/ed25519 %v", i, bit, got, std)
		}
	}
}

// edBenchInput returns a realistic signing input (an access token's
// "header.payload"), a public key and its signature over the input.
func edBenchInput(tb testing.TB) (input, pub, sig []byte) {
	tb.Helper()
	pub, priv := seededKey(3)
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"k-EdDSA","typ":"JWT"}`))
	payload := enc.EncodeToString([]byte(`{"aud":"https://api.example.com","exp":1767229200,"iat":1767225540,` +
		`"iss":"https://issuer.example.com/","jti":"3f1c9b0e-7a2d-4c5e-9f8a-1b2c3d4e5f60","nbf":1767225540,` +
		`"scope":"openid profile read:orders write:orders","sub":"user-1234567890"}`))
	input = []byte(header + "." + payload)
	return input, pub, ed25519.Sign(priv, input)
}

// BenchmarkEd25519 compares one signature check of a token's signing input
// by crypto/ed25519.Verify (impl=stdlib) and by a loaded key (impl=jwtgate:
// decoded once, with its multiplication table). The two run interleaved on
// the same input within each -count round, so benchstat's ratio holds up on
// a loaded machine.
func BenchmarkEd25519(b *testing.B) {
	in, pub, sig := edBenchInput(b)
	k, err := newEdKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, in, sig) {
				b.Fatal("stdlib rejected the signature")
			}
		}
	})
	b.Run("impl=jwtgate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.verify(in, sig) {
				b.Fatal("rejected the signature")
			}
		}
	})
	// impl=paired alternates the two within every iteration and reports
	// each one's share and their ratio: on a loaded machine both see the
	// same load, which separate sub-benchmarks minutes apart do not.
	b.Run("impl=paired", func(b *testing.B) {
		var std, own time.Duration
		for b.Loop() {
			t0 := time.Now()
			okStd := ed25519.Verify(pub, in, sig)
			t1 := time.Now()
			okOwn := k.verify(in, sig)
			t2 := time.Now()
			if !okStd || !okOwn {
				b.Fatal("rejected the signature")
			}
			std += t1.Sub(t0)
			own += t2.Sub(t1)
		}
		b.ReportMetric(float64(std.Nanoseconds())/float64(b.N), "stdlib-ns/op")
		b.ReportMetric(float64(own.Nanoseconds())/float64(b.N), "jwtgate-ns/op")
		b.ReportMetric(float64(std)/float64(own), "speedup")
	})
}

// BenchmarkEd25519Load measures loading an Ed25519 key: the load-time checks,
// decoding, and building its 30 KiB table, paid once per key.
func BenchmarkEd25519Load(b *testing.B) {
	_, pub, _ := edBenchInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewKey(EdDSA, "k", ed25519.PublicKey(pub)); err != nil {
			b.Fatal(err)
		}
	}
}
