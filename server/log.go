package server

import (
	"fmt"
	"io"
	"log/slog"
	"os"

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
