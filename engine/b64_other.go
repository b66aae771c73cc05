//go:build !amd64 || purego

package engine

// b64Decode is b64DecodeGo: this build has no assembly kernel. See b64.go
// for the contract.
func b64Decode(dst, src []byte) (out []byte, ok bool) { return b64DecodeGo(dst, src) }

// b64DecodePlain is b64DecodePlainGo: this build has no assembly kernel.
// See b64.go for the contract.
func b64DecodePlain(dst, src []byte) (out []byte, plain, ok bool) {
	return b64DecodePlainGo(dst, src)
}
