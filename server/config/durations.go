package config

import (
	"fmt"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// durationKeys are the settings that hold a duration ("30s", "5m").
var durationKeys = map[string]bool{
	"leeway": true, "max_age": true, "refresh_interval": true, "refresh_min": true, "refresh_max": true,
	"cooldown": true, "fetch_timeout": true, "read_timeout": true, "write_timeout": true,
	"idle_timeout": true, "shutdown_timeout": true, "drain_period": true, "interval": true,
}

// checkDurations finds the first duration setting whose value is not a Go
// duration string and reports it with its line: the YAML library reports a
// bad duration without one.
func checkDurations(tree *ast.File, file string) error {
	v := &durationVisitor{file: file}
	for _, doc := range tree.Docs {
		if doc.Body != nil {
			ast.Walk(v, doc.Body)
		}
		if v.err != nil {
			return v.err
		}
	}
	return nil
}

type durationVisitor struct {
	file string
	err  *Error
}

func (v *durationVisitor) Visit(n ast.Node) ast.Visitor {
	if v.err != nil {
		return nil
	}
	mv, ok := n.(*ast.MappingValueNode)
	if !ok || mv.Key == nil || mv.Value == nil || !durationKeys[mv.Key.String()] {
		return v
	}
	tk := mv.Value.GetToken()
	line := 0
	if tk != nil && tk.Position != nil {
		line = tk.Position.Line
	}
	switch val := mv.Value.(type) {
	case *ast.NullNode:
		return v
	case *ast.StringNode:
		if _, err := time.ParseDuration(val.Value); err == nil {
			return v
		}
		v.err = &Error{File: v.file, Line: line, Field: oneLine(mv.Key.String()), Msg: fmt.Sprintf("%.60q is not a duration (write it like 30s, 5m or 1h)", val.Value)}
	default:
		v.err = &Error{File: v.file, Line: line, Field: oneLine(mv.Key.String()), Msg: fmt.Sprintf("%.60q is not a duration (write it like 30s, 5m or 1h)", oneLine(mv.Value.String()))}
	}
	return nil
}
