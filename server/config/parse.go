package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/jwtgate/jwtgate/engine"
)

// MaxFileBytes caps the size of a configuration file.
const MaxFileBytes = 1 << 20

// EnvConfig is the environment variable that names the configuration file
// when --config is not given.
const EnvConfig = "JWTGATE_CONFIG"

// Error is one configuration problem. Line is the line of the YAML file it
// is on (0 when the setting did not come from a file, e.g. a flag); Field is
// the setting, e.g. "issuers[0].audiences".
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as "FILE:LINE: field: message" (the form
// editors jump to), or "line LINE: ..." without a file.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// source is the parsed YAML a Config came from, kept to find the line of a
// setting when validation rejects it.
type source struct {
	file string
	ast  *ast.File
}

// Parse reads a YAML configuration strictly — an unknown key, a wrong type
// or a duplicate key is an error naming its line — then applies the defaults
// and validates it (see Validate). Every problem found is returned, joined;
// each is an *Error.
func Parse(data []byte) (*Config, error) {
	cfg, err := decode(data, "")
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Decode reads a YAML configuration strictly, like Parse, but neither
// applies defaults nor validates: use it to apply Overrides before Validate.
func Decode(data []byte) (*Config, error) { return decode(data, "") }

// Load reads the configuration file at path (at most MaxFileBytes) and
// parses it like Parse; errors name the file and the line.
func Load(path string) (*Config, error) {
	cfg, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ReadFile reads the configuration file at path like Decode: strictly, but
// without defaults or validation.
func ReadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	if len(data) > MaxFileBytes {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileBytes)}
	}
	return decode(data, path)
}

func decode(data []byte, file string) (cfg *Config, err error) {
	defer func() {
		// The YAML library is third-party code fed untrusted bytes: a panic
		// in it must not take the process down.
		if r := recover(); r != nil {
			cfg, err = nil, &Error{File: file, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	if len(data) > MaxFileBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("configuration is larger than %d bytes", MaxFileBytes)}
	}
	tree, err := parser.ParseBytes(data, 0)
	if err != nil {
		if line := tabIndentLine(data); line > 0 {
			return nil, &Error{File: file, Line: line, Msg: "a tab in the indentation: YAML indents with spaces only; replace the tab with spaces"}
		}
		return nil, yamlError(err, file)
	}
	cfg = &Config{src: &source{file: file, ast: tree}}
	if len(bytes.TrimSpace(data)) > 0 {
		if len(tree.Docs) > 1 {
			return nil, &Error{File: file, Line: docLine(tree.Docs[1]), Msg: "the configuration must be a single YAML document"}
		}
		if body := tree.Docs[0].Body; body != nil && body.Type() != ast.MappingType && body.Type() != ast.CommentType {
			return nil, &Error{File: file, Line: body.GetToken().Position.Line, Msg: "the configuration must be a YAML mapping (key: value)"}
		}
		if err := checkDurations(tree, file); err != nil {
			return nil, err
		}
		if err := yaml.UnmarshalWithOptions(data, cfg, yaml.Strict()); err != nil {
			if te := (*yaml.TypeError)(nil); errors.As(err, &te) {
				return nil, typeError(te, tree, file)
			}
			if e := algorithmError(tree, file); e != nil {
				return nil, e
			}
			e := yamlError(err, file)
			if ne := (*yaml.UnexpectedNodeTypeError)(nil); errors.As(err, &ne) {
				e.Msg = "must be " + nodeTypeName(ne.Expected) + ", not " + nodeTypeName(ne.Actual)
			}
			if ye := yaml.Error(nil); errors.As(err, &ye) && e.Field == "" {
				e.Field = pathAt(tree, ye.GetToken())
			}
			return nil, e
		}
	}
	return cfg, nil
}

func docLine(d *ast.DocumentNode) int {
	if d == nil || d.GetToken() == nil {
		return 0
	}
	return d.GetToken().Position.Line
}

// yamlError turns a go-yaml error into an *Error with its line and a
// one-line message.
func yamlError(err error, file string) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: file, Msg: oneLine(ye.GetMessage())}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line = tk.Position.Line
		}
		return e
	}
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] // go-yaml appends the source excerpt
	}
	return &Error{File: file, Msg: oneLine(msg)}
}

// tabIndentLine returns the first line (from 1) whose indentation holds a
// tab, or 0.
func tabIndentLine(data []byte) int {
	for n, line := range bytes.Split(data, []byte("\n")) {
		indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 && len(bytes.TrimSpace(line)) > 0 {
			return n + 1
		}
	}
	return 0
}

// typeError reports a value of the wrong type by its YAML path and line and
// the type the setting takes, e.g. `issuers[0].require_kid: must be a
// boolean (true or false), not the string "true": remove the quotes`.
func typeError(te *yaml.TypeError, tree *ast.File, file string) error {
	e := &Error{File: file}
	var got string
	if tk := te.Token; tk != nil {
		if tk.Position != nil {
			e.Line = tk.Position.Line
		}
		e.Field = pathAt(tree, tk)
		got = describeToken(tk)
	}
	want := describeType(te.DstType)
	e.Msg = "must be " + want
	if got != "" {
		e.Msg += ", not " + got
	}
	if tk := te.Token; tk != nil && (tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType) {
		if _, err := strconv.ParseBool(tk.Value); err == nil && te.DstType.Kind() == reflect.Bool {
			e.Msg += ": remove the quotes"
		} else if _, err := strconv.ParseFloat(tk.Value, 64); err == nil && isNumber(te.DstType.Kind()) {
			e.Msg += ": remove the quotes"
		}
	}
	return e
}

// pathAt returns the YAML path ("issuers[0].require_kid") of the value
// whose token is tk, or "".
func pathAt(tree *ast.File, tk *token.Token) string {
	if tree == nil || tk == nil || tk.Position == nil {
		return ""
	}
	f := &nodeFinder{line: tk.Position.Line, column: tk.Position.Column}
	for _, doc := range tree.Docs {
		if doc != nil && doc.Body != nil {
			ast.Walk(f, doc.Body)
		}
	}
	return strings.TrimPrefix(strings.TrimPrefix(f.path, "$"), ".")
}

// nodeFinder finds the path of the innermost node at a line and column.
type nodeFinder struct {
	line, column int
	path         string
}

func (f *nodeFinder) Visit(n ast.Node) ast.Visitor {
	if mv, ok := n.(*ast.MappingValueNode); ok {
		if tk := mv.Value.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line == f.line && tk.Position.Column == f.column {
			f.path = mv.Value.GetPath()
		}
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil && tk.Position.Line == f.line && tk.Position.Column == f.column && f.path == "" {
		f.path = n.GetPath()
	}
	return f
}

// describeToken names a scalar as the user wrote it: `the string "true"`.
func describeToken(tk *token.Token) string {
	switch tk.Type {
	case token.DoubleQuoteType, token.SingleQuoteType:
		return strconv.Quote(tk.Value) + " (a quoted string)"
	case token.StringType:
		return "the string " + strconv.Quote(tk.Value)
	case token.IntegerType, token.FloatType, token.BinaryIntegerType, token.OctetIntegerType, token.HexIntegerType:
		return "the number " + tk.Value
	case token.BoolType:
		return "the boolean " + tk.Value
	case token.NullType:
		return "null"
	case token.SequenceStartType, token.SequenceEntryType:
		return "a list"
	case token.MappingStartType, token.MappingValueType:
		return "a mapping"
	}
	return ""
}

// describeType names what a setting of Go type t takes, in YAML terms.
func describeType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	if t == reflect.TypeFor[time.Duration]() {
		return "a duration such as 30s, 5m or 24h"
	}
	switch k := t.Kind(); {
	case k == reflect.Bool:
		return "a boolean (true or false)"
	case isNumber(k):
		return "a number"
	case k == reflect.String:
		return "a string"
	case k == reflect.Slice || k == reflect.Array:
		return "a list (- item, or [a, b])"
	case k == reflect.Map || k == reflect.Struct:
		return "a mapping (key: value)"
	case k == reflect.Pointer:
		return describeType(t.Elem())
	}
	return "a " + t.Kind().String()
}

// nodeTypeName names a YAML node type for messages.
func nodeTypeName(t ast.NodeType) string {
	switch t {
	case ast.SequenceType:
		return "a list (- item, or [a, b])"
	case ast.MappingType, ast.MappingValueType:
		return "a mapping (key: value)"
	case ast.StringType:
		return "a string"
	case ast.IntegerType, ast.FloatType:
		return "a number"
	case ast.BoolType:
		return "a boolean"
	case ast.NullType:
		return "empty (null)"
	}
	return "a " + strings.ToLower(t.String())
}

func isNumber(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64
}

// oneLine joins the lines of a message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", " ")), " ")
}

// lineOf returns the line of the setting at path (a YAML path such as
// "$.issuers[0].audiences"), or of its closest enclosing setting present in
// the file, or 0.
func (s *source) lineOf(path string) int {
	if s == nil || s.ast == nil {
		return 0
	}
	for p := path; p != "" && p != "$"; p = parentPath(p) {
		yp, err := yaml.PathString(p)
		if err != nil {
			continue
		}
		node, err := yp.FilterFile(s.ast)
		if err != nil || node == nil || node.GetToken() == nil || node.GetToken().Position == nil {
			continue
		}
		return node.GetToken().Position.Line
	}
	return 0
}

// parentPath strips the last element of a YAML path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return ""
	}
	return p[:i]
}

// algorithmError finds the algorithm name engine.Alg refused to decode (its
// error carries no position) and reports it with its setting and line; nil
// when every algorithm in the file is valid.
func algorithmError(tree *ast.File, file string) *Error {
	f := &algFinder{}
	for _, doc := range tree.Docs {
		if doc != nil && doc.Body != nil {
			ast.Walk(f, doc.Body)
		}
	}
	if f.bad == nil {
		return nil
	}
	e := &Error{File: file, Field: strings.TrimPrefix(f.bad.GetPath(), "$."), Line: f.bad.GetToken().Position.Line}
	var a engine.Alg
	e.Msg = a.UnmarshalText([]byte(f.bad.GetToken().Value)).Error()
	return e
}

// algFinder finds the first element of an "algorithms" list that is not an
// algorithm name.
type algFinder struct{ bad ast.Node }

func (f *algFinder) Visit(n ast.Node) ast.Visitor {
	if f.bad != nil {
		return nil
	}
	if seq, ok := n.(*ast.SequenceNode); ok && strings.HasSuffix(seq.GetPath(), ".algorithms") {
		for _, v := range seq.Values {
			if tk := v.GetToken(); tk != nil && tk.Position != nil {
				if _, ok := engine.ParseAlg(tk.Value); !ok {
					f.bad = v
					return nil
				}
			}
		}
	}
	return f
}
