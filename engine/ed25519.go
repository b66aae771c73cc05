package engine

import (
	"crypto/sha512"
	"errors"
	"sync"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// Ed25519 verification with per-key precomputation.
//
// crypto/ed25519.Verify decodes the public key (a field square root) and
// builds a small multiple table for it on every call, then computes
// [S]B - [k]A with a double-and-add over all 253 bits. A trusted key is
// loaded once and used millions of times, so edKey pays those costs once:
// it keeps the decoded point and a fixed-base table of its multiples, the
// same comb the standard library keeps for the base point B. A verify is
// then two table walks of 64 signed radix-16 digits each, sharing four
// doublings, and one field inversion to encode the result.
//
// The verdict equals crypto/ed25519's on every input: S must be canonical
// (S < l), k = SHA-512(R || A || M) reduced mod l with A the key's bytes as
// given, the equation is the cofactorless [S]B = R + [k]A, and R is compared
// by its encoding, so a non-canonical R never verifies. The public key is
// decoded with edwards25519's SetBytes, the decoder the standard library
// uses. Everything here is variable-time: it handles only public values
// (keys, signatures, messages).

// edAffine is a point in the form additions want:
// (y+x, y-x, 2d·x·y) in affine coordinates.
type edAffine struct {
	yPlusX, yMinusX, t2d field.Element
}

// edExtended is a point in extended coordinates: x = X/Z, y = Y/Z, x·y = T/Z.
type edExtended struct {
	x, y, z, t field.Element
}

// edCompleted is an intermediate result ((X:Z), (Y:T)) of an addition or a
// doubling.
type edCompleted struct {
	x, y, z, t field.Element
}

// edTable holds (j+1)·256^i·P for i < 32 and j < 8: a comb over the signed
// radix-16 digits of a scalar, odd digits first, then ×16, then even digits.
// It is 30 KiB.
type edTable [32][8]edAffine

// edKey is a decoded Ed25519 public key with its multiplication table.
type edKey struct {
	encoded [32]byte // the key as given, hashed into k
	table   *edTable // multiples of A
	base    *edTable // multiples of B, shared by all keys
}

// errEdPoint is returned by newEdKey when the bytes do not decode to a point.
var errEdPoint = errors.New("Ed25519 public key is not the 32-byte encoding of a curve point")

// newEdKey decodes pub with the standard library's rules and precomputes its
// table. It accepts exactly the keys crypto/ed25519.Verify accepts; the
// stricter load-time checks (canonical encoding, no small order) are
// checkEd25519's.
func newEdKey(pub []byte) (*edKey, error) {
	if len(pub) != 32 {
		return nil, errEdPoint
	}
	var a edwards25519.Point
	if _, err := a.SetBytes(pub); err != nil {
		return nil, errEdPoint
	}
	k := &edKey{table: newEdTable(&a), base: edBaseTable()}
	copy(k.encoded[:], pub)
	return k, nil
}

// edBaseTable is the table of the base point B, built when the first key
// is loaded.
var edBaseTable = sync.OnceValue(func() *edTable {
	return newEdTable(edwards25519.NewGeneratorPoint())
})

// edD2 is 2·d, d = -121665/121666 the curve constant.
var edD2 = func() *field.Element {
	d, err := new(field.Element).SetBytes([]byte{
		0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75,
		0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
		0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c,
		0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52})
	if err != nil {
		panic(err)
	}
	return d.Add(d, d)
}()

// newEdTable computes the comb table of p with the package's own (checked)
// point arithmetic, then converts all 256 points to affine form with a single
// field inversion (Montgomery's trick).
func newEdTable(p *edwards25519.Point) *edTable {
	var ext [32 * 8]edExtended
	base := new(edwards25519.Point).Set(p)
	multiple := new(edwards25519.Point)
	for i := range 32 {
		multiple.Set(base)
		for j := range 8 {
			if j > 0 {
				multiple.Add(multiple, base)
			}
			x, y, z, t := multiple.ExtendedCoordinates()
			e := &ext[i*8+j]
			e.x.Set(x)
			e.y.Set(y)
			e.z.Set(z)
			e.t.Set(t)
		}
		for range 8 { // base ×= 256
			base.Add(base, base)
		}
	}
	// prefix[i] = z0·…·z(i-1); then walk back with the inverse of the product.
	var prefix [len(ext)]field.Element
	var acc, inv, zInv field.Element
	acc.One()
	for i := range ext {
		prefix[i].Set(&acc)
		acc.Multiply(&acc, &ext[i].z)
	}
	inv.Invert(&acc)
	t := new(edTable)
	for i := len(ext) - 1; i >= 0; i-- {
		e := &ext[i]
		zInv.Multiply(&inv, &prefix[i])
		inv.Multiply(&inv, &e.z)
		a := &t[i/8][i%8]
		a.yPlusX.Add(&e.y, &e.x)
		a.yPlusX.Multiply(&a.yPlusX, &zInv)
		a.yMinusX.Subtract(&e.y, &e.x)
		a.yMinusX.Multiply(&a.yMinusX, &zInv)
		a.t2d.Multiply(&e.t, edD2)
		a.t2d.Multiply(&a.t2d, &zInv)
	}
	return t
}

// verify reports whether sig is a valid Ed25519 signature of msg by k, with
// exactly crypto/ed25519.Verify's verdict.
func (k *edKey) verify(msg, sig []byte) bool {
	if len(sig) != 64 || sig[63]&0xe0 != 0 {
		return false
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(k.encoded[:])
	h.Write(msg)
	var digest [64]byte
	kk, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		return false // unreachable: the digest is 64 bytes
	}
	sDigits := signedRadix16(s.Bytes())
	kDigits := signedRadix16(kk.Bytes())
	base := k.base

	// r = [S]B - [k]A, odd digits, ×16, even digits.
	var r edExtended
	r.setIdentity()
	for i := 1; i < 64; i += 2 {
		r.addDigit(&base[i/2], sDigits[i])
		r.addDigit(&k.table[i/2], -kDigits[i])
	}
	r.mul16()
	for i := 0; i < 64; i += 2 {
		r.addDigit(&base[i/2], sDigits[i])
		r.addDigit(&k.table[i/2], -kDigits[i])
	}
	var enc [32]byte
	r.encode(&enc)
	return enc == [32]byte(sig[:32])
}

// signedRadix16 returns the digits d[i] in [-8, 8] with b = Σ d[i]·16^i, for
// a little-endian b below 2^255 (a reduced scalar).
func signedRadix16(b []byte) [64]int8 {
	var d [64]int8
	for i := range 32 {
		d[2*i] = int8(b[i] & 15)
		d[2*i+1] = int8(b[i] >> 4)
	}
	for i := range 63 {
		carry := (d[i] + 8) >> 4
		d[i] -= carry << 4
		d[i+1] += carry
	}
	return d
}

func (v *edExtended) setIdentity() {
	v.x.Zero()
	v.y.One()
	v.z.One()
	v.t.Zero()
}

// addDigit adds digit·P to v, where row holds P, 2P, …, 8P.
func (v *edExtended) addDigit(row *[8]edAffine, digit int8) {
	var c edCompleted
	switch {
	case digit > 0:
		c.addAffine(v, &row[digit-1])
	case digit < 0:
		c.subAffine(v, &row[-digit-1])
	default:
		return
	}
	v.fromCompleted(&c)
}

// addAffine sets c = p + q.
func (c *edCompleted) addAffine(p *edExtended, q *edAffine) {
	var yPlusX, yMinusX, pp, mm, tt2d, z2 field.Element
	yPlusX.Add(&p.y, &p.x)
	yMinusX.Subtract(&p.y, &p.x)
	pp.Multiply(&yPlusX, &q.yPlusX)
	mm.Multiply(&yMinusX, &q.yMinusX)
	tt2d.Multiply(&p.t, &q.t2d)
	z2.Add(&p.z, &p.z)
	c.x.Subtract(&pp, &mm)
	c.y.Add(&pp, &mm)
	c.z.Add(&z2, &tt2d)
	c.t.Subtract(&z2, &tt2d)
}

// subAffine sets c = p - q: -q is q with y+x and y-x swapped and t negated.
func (c *edCompleted) subAffine(p *edExtended, q *edAffine) {
	var yPlusX, yMinusX, pp, mm, tt2d, z2 field.Element
	yPlusX.Add(&p.y, &p.x)
	yMinusX.Subtract(&p.y, &p.x)
	pp.Multiply(&yPlusX, &q.yMinusX)
	mm.Multiply(&yMinusX, &q.yPlusX)
	tt2d.Multiply(&p.t, &q.t2d)
	z2.Add(&p.z, &p.z)
	c.x.Subtract(&pp, &mm)
	c.y.Add(&pp, &mm)
	c.z.Subtract(&z2, &tt2d)
	c.t.Add(&z2, &tt2d)
}

// double sets c = 2·(X:Y:Z), ignoring T.
func (c *edCompleted) double(x, y, z *field.Element) {
	var xx, yy, zz2, xPlusYSq field.Element
	xx.Square(x)
	yy.Square(y)
	zz2.Square(z)
	zz2.Add(&zz2, &zz2)
	xPlusYSq.Add(x, y)
	xPlusYSq.Square(&xPlusYSq)
	c.y.Add(&yy, &xx)
	c.z.Subtract(&yy, &xx)
	c.x.Subtract(&xPlusYSq, &c.y)
	c.t.Subtract(&zz2, &c.z)
}

func (v *edExtended) fromCompleted(c *edCompleted) {
	v.x.Multiply(&c.x, &c.t)
	v.y.Multiply(&c.y, &c.z)
	v.z.Multiply(&c.z, &c.t)
	v.t.Multiply(&c.x, &c.y)
}

// mul16 sets v = 16·v with four doublings; only the last computes T.
func (v *edExtended) mul16() {
	var c edCompleted
	x, y, z := v.x, v.y, v.z
	for range 3 {
		c.double(&x, &y, &z)
		x.Multiply(&c.x, &c.t)
		y.Multiply(&c.y, &c.z)
		z.Multiply(&c.z, &c.t)
	}
	c.double(&x, &y, &z)
	v.fromCompleted(&c)
}

// encode writes the RFC 8032 encoding of v: y, with the sign of x in the top
// bit.
func (v *edExtended) encode(out *[32]byte) {
	var zInv, x, y field.Element
	zInv.Invert(&v.z)
	x.Multiply(&v.x, &zInv)
	y.Multiply(&v.y, &zInv)
	copy(out[:], y.Bytes())
	out[31] |= byte(x.IsNegative() << 7)
}
