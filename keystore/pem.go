package keystore

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/jwtgate/jwtgate/engine"
)

// MaxPEMSize bounds the PEM data ParsePEM accepts.
const MaxPEMSize = 1 << 20

// ParsePEM reads PEM-encoded public keys: "PUBLIC KEY" (PKIX),
// "RSA PUBLIC KEY" (PKCS #1) and "CERTIFICATE" blocks. Each key gets the
// first algorithm of algs that fits its type and curve (empty algs: RS256 for
// RSA, ES* by curve, EdDSA for Ed25519) and no kid. Unlike a JWKS, a PEM file
// is local configuration, so any bad block (a private key, an unsupported or
// weak key, junk) fails the whole file.
func ParsePEM(data []byte, algs []engine.Alg) ([]*engine.Key, error) {
	if len(data) > MaxPEMSize {
		return nil, fmt.Errorf("%w: PEM data is %d bytes, the limit is %d", ErrDocumentTooLarge, len(data), MaxPEMSize)
	}
	var keys []*engine.Key
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		k, err := pemKey(block, algs)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d (%s): %w", n, block.Type, err)
		}
		keys = append(keys, k)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%w: data that is not a PEM block after %d blocks", ErrMalformedPEM, len(keys))
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no PEM block found", ErrNoUsableKeys)
	}
	if len(keys) > MaxKeys {
		return nil, fmt.Errorf("%w: %d PEM keys, at most %d are accepted", ErrTooManyKeys, len(keys), MaxKeys)
	}
	return keys, nil
}

func pemKey(block *pem.Block, algs []engine.Alg) (*engine.Key, error) {
	if len(block.Headers) > 0 {
		return nil, fmt.Errorf("%w: PEM headers (encryption) are not supported", ErrMalformedPEM)
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("%w: not a public key or certificate (never configure private keys)", ErrUnsupportedKey)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPEM, err)
	}
	alg, err := inferAlg(pub, algs)
	if err != nil {
		return nil, err
	}
	k, _, err := bindKey(alg, "", pub)
	return k, err
}
