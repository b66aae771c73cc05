package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanAll runs the object scanner over data and returns its members and
// whether data was exactly one valid object.
func scanAll(data []byte) ([]member, bool) {
	var s objectScanner
	if !s.open(data) {
		return nil, false
	}
	var out []member
	var m member
	for s.next(&m) {
		out = append(out, m)
	}
	return out, s.done()
}

// jsonDepth returns the deepest nesting of arrays and objects in a valid
// JSON text (the top-level object counts 1).
func jsonDepth(data []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// referenceObject is encoding/json's verdict on whether data is one JSON
// object, with jwtgate's deliberate strictness on top: strings must be valid
// UTF-8 (encoding/json replaces bad bytes with U+FFFD) and nesting is
// bounded by maxJSONDepth (encoding/json allows 10,000 levels).
func referenceObject(data []byte) bool {
	if !json.Valid(data) || !utf8.Valid(data) {
		return false
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // 1e400 is valid JSON, if no float64
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if _, ok := v.(map[string]any); !ok {
		return false
	}
	return jsonDepth(data) <= maxJSONDepth
}

func checkAgainstReference(t *testing.T, doc string) {
	t.Helper()
	_, got := scanAll([]byte(doc))
	if want := referenceObject([]byte(doc)); got != want {
		t.Errorf("scanner says valid=%v for %q; encoding/json (with jwtgate's strictness) says %v", got, doc, want)
	}
}

func TestScannerNumbers(t *testing.T) {
	valid := []string{
		"0", "-0", "1", "-1", "10", "1.5", "-1.5", "0.0", "0.000001", "1e5", "1E5", "1e+5", "1e-5",
		"1.5e10", "-1.5E-10", "123456789012345678901234567890", "1e400", "-1e400", "1e-400",
		"9223372036854775807", "9223372036854775808", "-9223372036854775809", "0e0", "0E-0",
	}
	invalid := []string{
		"01", "-01", "00", "-", "+1", ".5", "1.", "1.e5", "1e", "1e+", "1e-", "--1", "0x10", "1_000",
		"Infinity", "-Infinity", "NaN", "1.5.5", "1e5e5", "１", "1 2", "- 1", "1,", "0.-1", "1ee5", "",
	}
	for _, n := range valid {
		doc := `{"n":` + n + `}`
		members, ok := scanAll([]byte(doc))
		if !ok || len(members) != 1 || members[0].kind != kindNumber || string(members[0].raw) != n {
			t.Errorf("%s: ok=%v members=%+v", doc, ok, members)
		}
		checkAgainstReference(t, doc)
	}
	for _, n := range invalid {
		doc := `{"n":` + n + `}`
		if _, ok := scanAll([]byte(doc)); ok {
			t.Errorf("accepted %s", doc)
		}
		checkAgainstReference(t, doc)
	}
}

func TestParseNumericDate(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want int64
	}{
		{"0", 0}, {"1767225600", 1767225600}, {"1767225600.999", 1767225600}, {"1.7672256e9", 1767225600},
		{"-0", 0}, {"-1", -1}, {"-1.5", -2}, {"0.5", 0}, {"1e-400", 0},
		{"999999999999999999", 999999999999999999}, // 18 digits: the integer fast path
		{"9223372036854775807", math.MaxInt64}, {"92233720368547758070", math.MaxInt64},
		{"1e400", math.MaxInt64}, {"-1e400", math.MinInt64}, {"-9223372036854775809", math.MinInt64},
	} {
		if got := parseNumericDate([]byte(c.raw)); got != c.want {
			t.Errorf("parseNumericDate(%s) = %d, want %d", c.raw, got, c.want)
		}
	}
}

// TestScannerStringsMatchEncodingJSON checks validity and the unescaped value
// of strings with every kind of escape against encoding/json.
func TestScannerStringsMatchEncodingJSON(t *testing.T) {
	valid := []string{
		``, `plain`, `\"`, `\\`, `\/`, `\b\f\n\r\t`, `\u0000`, `\u00e9`, `\u00E9`, `\u20AC`, `\uFFFF`,
		`\ud83d\ude00`, `\uD83D\uDE00`, `x\ud83dy`, `\ud83d`, `\ude00`, `\ude00\ud83d`, `\ud83d\u0041`,
		`\ud83d\ud83d\ude00`, `\ud83d\\ude00`, `\ud800\udc00`, `\udbff\udfff`,
		"é", "€", "😀", "\x7f", "\uFEFF", "\uFFFD", "a\\u0022b",
	}
	for _, raw := range valid {
		doc := `{"s":"` + raw + `"}`
		members, ok := scanAll([]byte(doc))
		if !ok || len(members) != 1 || members[0].kind != kindString {
			t.Errorf("%s: ok=%v members=%+v", doc, ok, members)
			continue
		}
		var ref map[string]string
		if err := json.Unmarshal([]byte(doc), &ref); err != nil {
			t.Fatalf("%s: encoding/json: %v", doc, err)
		}
		m := members[0]
		got := string(appendUnescaped(nil, m.raw))
		if !m.esc {
			got = string(m.raw)
		}
		if got != ref["s"] {
			t.Errorf("%s: unescaped %q, encoding/json %q", doc, got, ref["s"])
		}
		if m.esc != strings.Contains(raw, `\`) {
			t.Errorf("%s: esc = %v", doc, m.esc)
		}
	}
	invalid := []string{
		`\x`, `\a`, `\U0041`, `\u12`, `\u12G4`, `\u-123`, `\`, `\'`, `\0`,
		"\x00", "\x01", "\x1f", "\t", "\n", "\r", "a\nb",
		"\xff", "\x80", "\xc3", "\xc3\x28", "\xe2\x82", "\xe2\x28\xa1", "\xf0\x9f\x98", "\xc0\xaf",
		"\xe0\x80\xaf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe",
	}
	for _, raw := range invalid {
		doc := `{"s":"` + raw + `"}`
		if _, ok := scanAll([]byte(doc)); ok {
			t.Errorf("accepted %q", doc)
		}
		checkAgainstReference(t, doc)
	}
	// Names are strings too.
	for _, raw := range invalid {
		doc := `{"` + raw + `":1}`
		if _, ok := scanAll([]byte(doc)); ok {
			t.Errorf("accepted %q", doc)
		}
	}
}

func TestScannerDepthLimit(t *testing.T) {
	nest := func(levels int, open, close string) string {
		// levels counts the top-level object.
		return `{"x":` + strings.Repeat(open, levels-1) + strings.Repeat(close, levels-1) + `}`
	}
	for _, pair := range [][2]string{{"[", "]"}, {`{"a":`, "}"}} {
		open, close := pair[0], pair[1]
		if pair[0] == "[" {
			if _, ok := scanAll([]byte(nest(maxJSONDepth, open, close))); !ok {
				t.Errorf("rejected %d levels of arrays", maxJSONDepth)
			}
		} else {
			inner := `{"x":` + strings.Repeat(open, maxJSONDepth-2) + `{}` + strings.Repeat(close, maxJSONDepth-2) + `}`
			if jsonDepth([]byte(inner)) != maxJSONDepth {
				t.Fatalf("depth %d", jsonDepth([]byte(inner)))
			}
			if _, ok := scanAll([]byte(inner)); !ok {
				t.Errorf("rejected %d levels of objects", maxJSONDepth)
			}
			deeper := `{"x":` + strings.Repeat(open, maxJSONDepth-1) + `{}` + strings.Repeat(close, maxJSONDepth-1) + `}`
			if _, ok := scanAll([]byte(deeper)); ok {
				t.Errorf("accepted %d levels of objects", maxJSONDepth+1)
			}
			continue
		}
		if _, ok := scanAll([]byte(nest(maxJSONDepth+1, open, close))); ok {
			t.Errorf("accepted %d levels", maxJSONDepth+1)
		}
	}
	// Far deeper than the limit: rejected without recursing through it.
	for _, n := range []int{100, 10000, 1 << 20} {
		doc := `{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
		if _, ok := scanAll([]byte(doc)); ok {
			t.Errorf("accepted %d levels", n)
		}
		unbalanced := `{"x":` + strings.Repeat("[", n)
		if _, ok := scanAll([]byte(unbalanced)); ok {
			t.Errorf("accepted %d unclosed levels", n)
		}
	}
}

func TestScannerWhitespaceAndTrailingBytes(t *testing.T) {
	for _, c := range []struct {
		doc string
		ok  bool
	}{
		{"{}", true},
		{" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n1 \t\r\n, \"b\":[ 1 , 2 ] } \t\r\n", true},
		{"{\"a\":1}\n", true},
		{"{\"a\":\v1}", false},
		{"{\"a\":\f1}", false},
		{"{\"a\":\u00a01}", false},
		{"\ufeff{}", false},
		{"{}\ufeff", false},
		{"{}x", false},
		{"{} {}", false},
		{"{}\x00", false},
		{"{},", false},
		{"{}}", false},
		{"{", false},
		{"{\"a\"", false},
		{"{\"a\":", false},
		{"{\"a\":1", false},
		{"{\"a\":1,", false},
		{"{\"a\":1,}", false},
		{"{,\"a\":1}", false},
		{"{\"a\" 1}", false},
		{"{\"a\"::1}", false},
		{"{\"a\":1 \"b\":2}", false},
		{"{a:1}", false},
		{"{'a':1}", false},
		{"{\"a\":[1,]}", false},
		{"{\"a\":[,1]}", false},
		{"{\"a\":{\"b\"}}", false},
		{"{\"a\":{1:2}}", false},
		{"{\"a\":tru}", false},
		{"{\"a\":True}", false},
		{"{\"a\":nul}", false},
		{"{\"a\":nulll}", false},
		{"{\"a\":falsey}", false},
		{"{\"a\":undefined}", false},
		{"{\"a\":1}//", false},
		{"[]", false},
		{"\"{}\"", false},
		{"", false},
		{"null", false},
	} {
		if _, ok := scanAll([]byte(c.doc)); ok != c.ok {
			t.Errorf("%q: valid = %v, want %v", c.doc, ok, c.ok)
		}
		checkAgainstReference(t, c.doc)
	}
}

func TestScannerMembers(t *testing.T) {
	doc := `{ "s" : "x\"y" , "n":-12.5e3,"t":true,"f":false,"z":null,"o":{"a":[1,{"b":"}"}]},"a":[],"e\u0073c":"\u00e9","":0 }`
	members, ok := scanAll([]byte(doc))
	if !ok {
		t.Fatal("rejected")
	}
	want := []struct {
		name string
		kind jsonKind
		raw  string
		esc  bool
	}{
		{"s", kindString, `x\"y`, true},
		{"n", kindNumber, "-12.5e3", false},
		{"t", kindBool, "true", false},
		{"f", kindBool, "false", false},
		{"z", kindNull, "null", false},
		{"o", kindObject, `{"a":[1,{"b":"}"}]}`, false},
		{"a", kindArray, "[]", false},
		{`e\u0073c`, kindString, `\u00e9`, true},
		{"", kindNumber, "0", false},
	}
	if len(members) != len(want) {
		t.Fatalf("%d members, want %d", len(members), len(want))
	}
	for i, w := range want {
		m := members[i]
		if string(m.name) != w.name || m.kind != w.kind || string(m.raw) != w.raw || m.esc != w.esc {
			t.Errorf("member %d = {%q %v %q %v}, want %+v", i, m.name, m.kind, m.raw, m.esc, w)
		}
		v := m.value([]byte(doc))
		if w.kind == kindString && string(v) != `"`+w.raw+`"` || w.kind != kindString && string(v) != w.raw {
			t.Errorf("member %d value %q", i, v)
		}
	}
	if !members[7].nameEsc || members[0].nameEsc {
		t.Error("nameEsc wrong")
	}
}

// TestScanClaimsLookup checks raw claim access by name, escapes included.
func TestScanClaimsLookup(t *testing.T) {
	var tok Token
	payload := []byte(`{"iss":"a","r\u006fle":"admin","n":{"x":1},"aud":["x","y"],"esc":"\"q\""}`)
	if err := ScanClaims(payload, &tok); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"role": `"admin"`, "n": `{"x":1}`, "aud": `["x","y"]`, "esc": `"\"q\""`, "iss": `"a"`} {
		if got, ok := tok.Claims.Lookup(name); !ok || string(got) != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := tok.Claims.Lookup("r\\u006fle"); ok {
		t.Error("Lookup matched the escaped spelling of a name")
	}
	if tok.Claims.Has("x") {
		t.Error("Has reported a nested member as a claim")
	}
}

// TestDuplicatesAmongThousands checks duplicate detection at every kind of
// position in objects of thousands of members, in the header and the
// payload.
func TestDuplicatesAmongThousands(t *testing.T) {
	const n = 5000
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("claim-%05d", i)
	}
	object := func(names []string) []byte {
		var b strings.Builder
		b.WriteString(`{"alg":"RS256"`)
		for i, name := range names {
			fmt.Fprintf(&b, `,"%s":%d`, name, i)
		}
		b.WriteString("}")
		return []byte(b.String())
	}
	var tok Token
	if err := ScanClaims(object(names), &tok); err != nil {
		t.Fatalf("%d distinct claims: %v", n, err)
	}
	if err := ScanHeader(object(names), &tok); err != nil {
		t.Fatalf("%d distinct header members: %v", n, err)
	}
	for _, dup := range []int{0, 1, linearNames - 2, linearNames - 1, linearNames, linearNames + 1, 100, n - 1} {
		for _, at := range []int{dup + 1, n} {
			if at <= dup {
				continue
			}
			with := append(append(append([]string{}, names[:at]...), names[dup]), names[at:]...)
			if err := ScanClaims(object(with), &tok); err != errClaimDup {
				t.Errorf("claims: duplicate of member %d inserted at %d: %v", dup, at, err)
			}
			if err := ScanHeader(object(with), &tok); err != errHeaderDup {
				t.Errorf("header: duplicate of member %d inserted at %d: %v", dup, at, err)
			}
			// The same name spelled with an escape is the same name.
			escaped := append([]string{}, with...)
			escaped[at] = `\u0063` + names[dup][1:]
			if err := ScanClaims(object(escaped), &tok); err != errClaimDup {
				t.Errorf("claims: escaped duplicate of member %d at %d: %v", dup, at, err)
			}
		}
	}
}

// TestDuplicateDetectionIsLinear counts the work of duplicate detection
// instead of timing it: inserting into the open-addressing table costs one
// probe per slot of the cluster it lands in, so the sum over clusters of
// their squared sizes bounds the total probes. A quadratic scheme (or a
// table that fills up) makes that sum grow with the square of the member
// count; a sound one keeps it a small multiple of the count.
func TestDuplicateDetectionIsLinear(t *testing.T) {
	for _, n := range []int{1000, 10000, 50000} {
		for _, shape := range []struct {
			name string
			make func(i int) string
		}{
			{"sequential", func(i int) string { return fmt.Sprintf("c%d", i) }},
			{"shared prefix", func(i int) string { return strings.Repeat("p", 40) + fmt.Sprint(i) }},
			{"shared suffix", func(i int) string { return fmt.Sprint(i) + strings.Repeat("s", 40) }},
			{"one character apart", func(i int) string {
				return string([]byte{b64Alphabet[i%64], b64Alphabet[i/64%64], b64Alphabet[i/4096%64]})
			}},
		} {
			var b strings.Builder
			b.WriteString("{")
			for i := range n {
				if i > 0 {
					b.WriteString(",")
				}
				name, _ := json.Marshal(shape.make(i))
				fmt.Fprintf(&b, `%s:0`, name)
			}
			b.WriteString("}")
			var tok Token
			if err := ScanClaims([]byte(b.String()), &tok); err != nil {
				t.Fatalf("%s n=%d: %v", shape.name, n, err)
			}
			s := &tok.names
			if len(s.names) != n {
				t.Fatalf("%s n=%d: set holds %d names", shape.name, n, len(s.names))
			}
			if len(s.slots) < 2*n {
				t.Errorf("%s n=%d: %d slots for %d names: load factor above 1/2", shape.name, n, len(s.slots), n)
			}
			occupied, work, run := 0, 0, 0
			// Start just after an empty slot so a cluster wrapping around
			// the end is counted once.
			start := 0
			for start < len(s.slots) && s.slots[start].gen == s.gen {
				start++
			}
			for k := 1; k <= len(s.slots); k++ {
				if s.slots[(start+k)%len(s.slots)].gen == s.gen {
					occupied++
					run++
					continue
				}
				work += run * run
				run = 0
			}
			work += run * run
			if occupied != n {
				t.Fatalf("%s n=%d: %d occupied slots", shape.name, n, occupied)
			}
			if work > 8*n {
				t.Errorf("%s n=%d: probe work bound %d exceeds 8n = %d", shape.name, n, work, 8*n)
			}
		}
	}
}

// TestScannerAgreesOnCorpus runs a corpus of tricky objects through both the
// scanner and encoding/json.
func TestScannerAgreesOnCorpus(t *testing.T) {
	for _, doc := range []string{
		`{"a":{"b":{"c":[[[[]]]]}}}`,
		`{"a":"\u0000"}`,
		`{"a":"\\\\\\\""}`,
		`{"a":"\\\\\\"}`,
		`{"a":[1,"2",{"3":[true,false,null]}]}`,
		`{"a":1e999}`,
		`{"a":-0.0e-0}`,
		`{"":""}`,
		`{"a":"b","a":"c"}`, // duplicates are a header/claims rule, not a scanner one
		`{"a" :1 ,"b" :2}`,
		"{\"a\":\"\xf0\x9f\x98\x80\"}",
		"{\"\xf0\x9f\x98\x80\":1}",
		`{"a":[}`,
		`{"a":{]}`,
		`{"a":"}`,
		`{"a":"\"}`,
		`{"a":[1 2]}`,
		`{"a":{"b":1 "c":2}}`,
		`{"a":{"b":1,}}`,
		`{"a":[[]]]}`,
	} {
		checkAgainstReference(t, doc)
	}
}

// TestScanClaimsAllocs pins the claims scanner at zero allocations once a
// Token has scratch for the payload, escapes and "scp" arrays included.
func TestScanClaimsAllocs(t *testing.T) {
	payload := []byte(`{"iss":"https:\/\/i.example","sub":"Zo\u00eb","aud":["a","b\"c"],"exp":1767225600.5,` +
		`"nbf":1,"iat":2,"jti":"j","scp":["read","","write\u0021"],"x":{"y":[1,2,{"z":null}]}}`)
	var tok Token
	if err := ScanClaims(payload, &tok); err != nil {
		t.Fatal(err)
	}
	if got := string(tok.Claims.Scope); got != "read  write!" {
		t.Fatalf("scope %q", got)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if err := ScanClaims(payload, &tok); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("ScanClaims allocates %v times", allocs)
	}
}

// TestSmallInt checks the integer fast path against parseNumericDate over
// every length from 1 to 20 digits, at the end of the input and before
// every kind of follower, so the word-at-a-time and byte-at-a-time ways
// are both taken.
func TestSmallInt(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for _, digits := range []string{strings.Repeat("9", n), ("1234567890123456789012")[:n], "7" + strings.Repeat("0", n-1), "1" + strings.Repeat("0", n-1)} {
			for _, f := range []string{"", "}", ",", " ", ".5", "e3", "E3", "x", "}" + strings.Repeat(" ", 20), "0", "00"} {
				// padded too, so that every follower is also seen by the
				// word-at-a-time path (ten digits: its NumericDate shortcut)
				for _, follow := range []string{f, f + strings.Repeat(" ", 20)} {
					d := []byte(digits + follow)
					got, end, ok := smallInt(d, 0)
					wantEnd := len(digits)
					wantEnd += len(f) - len(strings.TrimLeft(f, "0"))
					wantOK := wantEnd <= 15 && !strings.ContainsAny(follow[:min(1, len(follow))], ".eE")
					if ok != wantOK {
						t.Errorf("smallInt(%q) ok = %v, want %v", d, ok, wantOK)
						continue
					}
					if ok && (end != wantEnd || got != parseNumericDate(d[:end])) {
						t.Errorf("smallInt(%q) = %d, %d; want %d, %d", d, got, end, parseNumericDate(d[:wantEnd]), wantEnd)
					}
				}
			}
		}
	}
	for _, d := range []string{"0", "01", "-1", "", " 1", "a", ".5", "-0", "0999999999}                ", "09999999999}               "} {
		if _, _, ok := smallInt([]byte(d), 0); ok {
			t.Errorf("smallInt(%q) took the fast path", d)
		}
	}
}
