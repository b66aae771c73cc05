package keystore

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
)

// b64std is the padded standard base64 of x5c (RFC 7517 §4.7).
var b64std = base64.StdEncoding.Strict()

// leafCertificate returns the first certificate of "x5c" (nil when absent).
// The chain is not verified: the key set's own source is the trust anchor.
// x5t and x5t#S256, when present next to x5c, must be the leaf's thumbprints.
func leafCertificate(obj object) (*x509.Certificate, error) {
	chain, present, err := obj.strs("x5c")
	if err != nil || !present {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: x5c is an empty array", ErrMalformedJWK)
	}
	if len(chain) > maxX5C {
		return nil, fmt.Errorf("%w: x5c has %d certificates, at most %d are accepted", ErrMalformedJWK, len(chain), maxX5C)
	}
	var leafDER []byte
	for i, c := range chain {
		der, err := b64std.DecodeString(c)
		if err != nil {
			return nil, fmt.Errorf("%w: x5c[%d] is not padded standard base64: %v", ErrMalformedJWK, i, err)
		}
		if i == 0 {
			leafDER = der
		}
	}
	cert, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("%w: x5c[0] is not a DER X.509 certificate: %v", ErrMalformedJWK, err)
	}
	for _, t := range []struct {
		name string
		sum  []byte
	}{
		{"x5t", sha1Sum(leafDER)},
		{"x5t#S256", sha256Sum(leafDER)},
	} {
		want, present, err := obj.bytesMember(t.name)
		if err != nil {
			return nil, err
		}
		if present && !bytes.Equal(want, t.sum) {
			return nil, fmt.Errorf("%w: %s is not the thumbprint of x5c[0]", ErrCertificateMismatch, t.name)
		}
	}
	return cert, nil
}

func sha1Sum(b []byte) []byte   { s := sha1.Sum(b); return s[:] }
func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
