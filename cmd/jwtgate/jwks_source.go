package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/jwtgate/jwtgate/keystore"
)

// openJWKS loads the key set src — an http(s) URL or a file — into a key
// store that routes every token to it. It fails unless at least one usable
// key was loaded. The caller closes the store.
func openJWKS(ctx context.Context, src string, logw io.Writer) (*keystore.Store, error) {
	iss := keystore.Issuer{}
	if isURL(src) {
		iss.JWKSURL = src
	} else {
		iss.JWKSFile = src
	}
	return openKeys(ctx, iss, logw)
}

// openKeys starts a key store for the one issuer iss. It fails unless at
// least one usable key was loaded, with one error that says why: a fetch
// failure is not also logged. Warnings about keys the store rejected go to
// logw, so that a set with no usable key explains itself. The caller closes
// the store.
func openKeys(ctx context.Context, iss keystore.Issuer, logw io.Writer) (*keystore.Store, error) {
	held := &heldWriter{}
	logger := slog.New(slog.NewTextHandler(held, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := keystore.New(keystore.Options{Logger: logger}, iss)
	if err != nil {
		return nil, err
	}
	startErr := store.Start(ctx)
	if startErr == nil && store.Ready() {
		held.release(logw)
		return store, nil
	}
	store.Close()
	if startErr == nil {
		held.release(logw) // the rejected keys, one line each
		return nil, errors.New("no usable key")
	}
	held.release(io.Discard) // the fetch failure, which the error tells
	return nil, fetchFailure(startErr)
}

// fetchFailure rewrites a fetch error for the command line: the flag's
// message already names the URL and there is only one issuer.
func fetchFailure(err error) error {
	var fe *keystore.FetchError
	if !errors.As(err, &fe) {
		return err
	}
	what := "cannot fetch it"
	if fe.Kind == keystore.KindDiscovery || strings.Contains(fe.URL, ".well-known/") {
		what = "cannot fetch " + fe.URL
	}
	return fmt.Errorf("%s (%s): %w", what, fe.Kind, fe.Err)
}

// heldWriter keeps what is written until release sends it on, and then
// writes through.
type heldWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	to  io.Writer
}

func (w *heldWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.to != nil {
		return w.to.Write(p)
	}
	return w.buf.Write(p)
}

// release writes what was held to to and sends later writes there.
func (w *heldWriter) release(to io.Writer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	to.Write(w.buf.Bytes())
	w.buf.Reset()
	w.to = to
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
