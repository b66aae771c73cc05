package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/server/config"
)

// NewLogger returns the slog logger the log settings ask for — text or JSON,
// at the given level — writing to w (nil: stderr).
func NewLogger(cfg config.Log, w io.Writer) (*slog.Logger, error) {
	if w == nil {
		w = os.Stderr
	}
	var level slog.Level
	switch cfg.Level {
	case "debug":
		level = slog.LevelDebug
	case "", "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("log.level: unknown level %q", cfg.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.Format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log.format: unknown format %q", cfg.Format)
}

// logRequest writes the request log line (log.requests: true) of a request
// answered with status for reason ("ok" when allowed):
//
//	level=INFO msg=request endpoint=auth method=GET uri=/api/x status=401 reason=expired latency=41µs cached=false issuer=https://idp sub=""
//
// method and uri are the original request's, as the proxy forwarded them
// (X-Forwarded-Method/-Uri, X-Original-Method/-URI), else jwtgate's own;
// issuer is the issuer whose keys checked the token, "" before that; sub is
// the subject of an allowed token. The caller checks h.logRequests first, so
// that a server not logging requests does no work and allocates nothing.
func (h *handler) logRequest(ctx *fasthttp.RequestCtx, x *exchange, e endpoint, status int, reason string) {
	req := &ctx.Request.Header
	method := req.PeekBytes(hdrForwardedMethod)
	if len(method) == 0 {
		method = req.PeekBytes(hdrOriginalMethod)
	}
	if len(method) == 0 {
		method = req.Method()
	}
	uri := req.PeekBytes(hdrForwardedURI)
	if len(uri) == 0 {
		uri = req.PeekBytes(hdrOriginalURI)
	}
	if len(uri) == 0 {
		uri = req.RequestURI()
	}
	var latency time.Duration
	if start := ctx.Time(); !start.IsZero() { // zero for a RequestCtx not served by fasthttp.Server
		latency = time.Since(start)
	}
	var sub string
	cached := false
	if status == fasthttp.StatusOK && x.verified != nil { // nil on a public route, or an optional one without a token
		cached = x.verified.FromCache()
		if e == endpointAuth {
			sub = string(x.verified.Claims.Subject)
		}
	}
	h.logger.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("endpoint", endpointNames[e]),
		slog.String("method", string(method)),
		slog.String("uri", string(uri)),
		slog.Int("status", status),
		slog.String("reason", reason),
		slog.Duration("latency", latency),
		slog.Bool("cached", cached),
		slog.String("issuer", x.st.Issuer),
		slog.String("sub", sub),
	)
}
