package engine

// AppendClaimText appends the raw JSON value of a claim (as Claims.Lookup
// returns it) rendered as text, for a header or a log line: a string's
// unescaped content, a number or boolean as written, null as nothing, an
// array's elements joined by sep (each rendered the same way), an object as
// compact JSON. ok is false when value is not exactly one valid JSON value.
// It allocates only if dst must grow.
func AppendClaimText(dst, value []byte, sep string) (out []byte, ok bool) {
	i := skipWS(value, 0)
	kind, end, _, ok := scanValue(value, i, 1, false)
	if !ok || skipWS(value, end) != len(value) {
		return dst, false
	}
	return appendText(dst, value[i:end], kind, sep), true
}

// appendText renders the validated JSON value v of the given kind.
func appendText(dst, v []byte, kind jsonKind, sep string) []byte {
	switch kind {
	case kindString:
		return appendUnescaped(dst, v[1:len(v)-1])
	case kindNull:
		return dst
	case kindArray:
		n := 0
		for i := skipWS(v, 1); i < len(v) && v[i] != ']'; n++ {
			k, end, _, _ := scanValue(v, i, 1, false)
			if n > 0 {
				dst = append(dst, sep...)
			}
			dst = appendText(dst, v[i:end], k, sep)
			if i = skipWS(v, end); v[i] == ',' {
				i = skipWS(v, i+1)
			}
		}
		return dst
	case kindObject:
		return appendCompact(dst, v)
	}
	return append(dst, v...)
}

// appendCompact appends the validated JSON value v without insignificant
// whitespace.
func appendCompact(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			end, _, _ := scanString(v, i)
			dst = append(dst, v[i:end]...)
			i = end - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
