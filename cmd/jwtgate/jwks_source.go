package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/jwtgate/jwtgate/keystore"
)

// openJWKS loads the key set src — an http(s) URL or a file — into a key
// store that routes every token to it. It fails unless at least one usable
// key was loaded. Rejected keys and fetch failures are logged to logw. The
// caller closes the store.
func openJWKS(ctx context.Context, src string, logw io.Writer) (*keystore.Store, error) {
	iss := keystore.Issuer{}
	if isURL(src) {
		iss.JWKSURL = src
	} else {
		iss.JWKSFile = src
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := keystore.New(keystore.Options{Logger: logger}, iss)
	if err != nil {
		return nil, err
	}
	startErr := store.Start(ctx)
	if startErr == nil && store.Ready() {
		return store, nil
	}
	store.Close()
	if startErr == nil {
		startErr = errors.New("no usable key")
	}
	return nil, startErr
}

// isURL reports whether src names a remote key set rather than a file.
func isURL(src string) bool {
	lower := strings.ToLower(src)
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}

// describeSource names src for messages: "file x.json" or "URL https://...".
func describeSource(src string) string {
	if isURL(src) {
		return fmt.Sprintf("URL %s", src)
	}
	return fmt.Sprintf("file %s", src)
}
