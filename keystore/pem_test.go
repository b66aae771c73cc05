package keystore

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

func pkixPEM(t *testing.T, s *sign.Key) []byte {
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestParsePEM(t *testing.T) {
	rs := signer(t, engine.RS256, "pem-rsa")
	ec := signer(t, engine.ES384, "pem-ec")
	ed := signer(t, engine.EdDSA, "pem-ed")
	var data []byte
	data = append(data, pkixPEM(t, rs)...)
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: selfSigned(t, ec)})...)
	data = append(data, "\n"...)
	data = append(data, pkixPEM(t, ed)...)
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rs.Public().(*rsa.PublicKey))})...)
	keys, err := ParsePEM(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.Alg{engine.RS256, engine.ES384, engine.EdDSA, engine.RS256}
	if len(keys) != len(want) {
		t.Fatalf("%d keys", len(keys))
	}
	for i, k := range keys {
		if k.Alg() != want[i] || k.Kid() != "" {
			t.Fatalf("key %d: %s kid %q", i, k.Alg(), k.Kid())
		}
	}
	verifies(t, keys[0], rs)
	verifies(t, keys[1], ec)
	verifies(t, keys[2], ed)

	// The allow-list picks the RSA algorithm.
	ps := signer(t, engine.PS256, "pem-ps")
	keys, err = ParsePEM(pkixPEM(t, ps), []engine.Alg{engine.ES256, engine.PS256})
	if err != nil || keys[0].Alg() != engine.PS256 {
		t.Fatalf("allow-list: %v", err)
	}
	verifies(t, keys[0], ps)
}

func TestParsePEMRejects(t *testing.T) {
	rs := signer(t, engine.RS256, "pem-rsa")
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rs.Private.(*rsa.PrivateKey))})
	cases := []struct {
		name string
		data []byte
		algs []engine.Alg
		is   error
		text string
	}{
		{"empty", nil, nil, ErrNoUsableKeys, "no PEM block found"},
		{"junk", []byte("hello"), nil, ErrMalformedPEM, "data that is not a PEM block after 0 blocks"},
		{"junk after a key", append(pkixPEM(t, rs), "trailing"...), nil, ErrMalformedPEM, "after 1 blocks"},
		{"private key", priv, nil, ErrUnsupportedKey, "PEM block 1 (RSA PRIVATE KEY): unsupported key: not a public key or certificate"},
		{"bad DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("nope")}), nil, ErrMalformedPEM, "PEM block 1 (PUBLIC KEY): malformed PEM"},
		{"encrypted", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte("x")}), nil, ErrMalformedPEM, "PEM headers"},
		{"no allowed algorithm", pkixPEM(t, rs), []engine.Alg{engine.ES256}, ErrNoAlgorithm, "fits none of the allowed algorithms (ES256)"},
		{"too large", make([]byte, MaxPEMSize+1), nil, ErrDocumentTooLarge, "the limit is 1048576"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys, err := ParsePEM(c.data, c.algs)
			if !errors.Is(err, c.is) || keys != nil {
				t.Fatalf("err %v, want %v", err, c.is)
			}
			mustContain(t, err.Error(), c.text)
		})
	}
}
