package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// object is one JSON object read strictly: every member once, raw values.
type object map[string]json.RawMessage

// readObject parses data as exactly one JSON object with no duplicate member
// names and nothing but whitespace after it. Member values are kept raw.
// JSON text must be UTF-8 (RFC 8259 §8.1): encoding/json would silently
// replace invalid bytes, so they are rejected first.
func readObject(data []byte) (object, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid JSON: invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	obj := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("not valid JSON: object member name is not a string")
		}
		if _, dup := obj[name]; dup {
			return nil, fmt.Errorf("duplicate member %q", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not valid JSON: member %q: %v", name, err)
		}
		obj[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return obj, nil
}

// jsonType names the JSON type of a raw value, for error messages.
func jsonType(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// str returns member name as a string; present is false when it is absent.
func (o object) str(name string) (s string, present bool, err error) {
	raw, ok := o[name]
	if !ok {
		return "", false, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", true, fmt.Errorf("%w: member %q must be a string, got %s", ErrMalformedJWK, name, jsonType(raw))
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("%w: member %q: %v", ErrMalformedJWK, name, err)
	}
	return s, true, nil
}

// strs returns member name as an array of strings.
func (o object) strs(name string) (list []string, present bool, err error) {
	raw, ok := o[name]
	if !ok {
		return nil, false, nil
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, true, fmt.Errorf("%w: member %q must be an array of strings, got %s", ErrMalformedJWK, name, jsonType(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, true, fmt.Errorf("%w: member %q: %v", ErrMalformedJWK, name, err)
	}
	list = make([]string, len(items))
	for i, item := range items {
		if len(item) == 0 || item[0] != '"' {
			return nil, true, fmt.Errorf("%w: member %q must be an array of strings, element %d is %s", ErrMalformedJWK, name, i, jsonType(item))
		}
		if err := json.Unmarshal(item, &list[i]); err != nil {
			return nil, true, fmt.Errorf("%w: member %q element %d: %v", ErrMalformedJWK, name, i, err)
		}
	}
	return list, true, nil
}

// b64url is strict unpadded base64url (RFC 7515 §2): no padding, no
// non-canonical trailing bits.
var b64url = base64.RawURLEncoding.Strict()

// bytesMember returns member name decoded from base64url.
func (o object) bytesMember(name string) (b []byte, present bool, err error) {
	s, present, err := o.str(name)
	if !present || err != nil {
		return nil, present, err
	}
	b, err = b64url.DecodeString(s)
	if err != nil {
		return nil, true, fmt.Errorf("%w: member %q is not unpadded base64url: %v", ErrMalformedJWK, name, err)
	}
	if len(b) == 0 {
		return nil, true, fmt.Errorf("%w: member %q is empty", ErrMalformedJWK, name)
	}
	return b, true, nil
}
