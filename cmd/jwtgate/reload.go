package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// reloadOnSignal reloads the server's configuration for each value on hup
// (SIGHUP) until done is closed. Reload logs its result.
func reloadOnSignal(ctx context.Context, srv *server.Server, hup <-chan os.Signal, logger *slog.Logger, done <-chan struct{}) {
	for {
		select {
		case <-hup:
			logger.Info("SIGHUP: reloading the configuration and key files")
			srv.Reload(ctx) //nolint:errcheck // logged and counted by Reload
		case <-done:
			return
		}
	}
}

// fileWatch polls the configuration file and the key files for changes.
type fileWatch struct {
	configPath string // "" without a configuration file
}

func newFileWatch(configPath string) *fileWatch { return &fileWatch{configPath: configPath} }

// fileState is what the watch compares of a file: modification time, size
// and a hash of the content (a file rewritten within the clock's resolution
// with the same size is still seen); missing files have the zero state.
type fileState struct {
	exists  bool
	modTime time.Time
	size    int64
	sum     [sha256.Size]byte
}

// snapshot returns the state of every watched file of cfg: the
// configuration file, every jwks_file and pem_files entry.
func (w *fileWatch) snapshot(cfg *config.Config) map[string]fileState {
	paths := []string{}
	if w.configPath != "" {
		paths = append(paths, w.configPath)
	}
	for i := range cfg.Issuers {
		is := &cfg.Issuers[i]
		if is.JWKSFile != "" {
			paths = append(paths, is.JWKSFile)
		}
		paths = append(paths, is.PEMFiles...)
	}
	out := make(map[string]fileState, len(paths))
	for _, p := range paths {
		out[p] = stateOf(p)
	}
	return out
}

// stateOf reads a file's state; an unreadable file counts as missing.
func stateOf(path string) fileState {
	f, err := os.Open(path)
	if err != nil {
		return fileState{}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fileState{}
	}
	h := sha256.New()
	// Configuration and key files are capped far below this.
	if _, err := io.Copy(h, io.LimitReader(f, 16<<20)); err != nil {
		return fileState{}
	}
	st := fileState{exists: true, modTime: fi.ModTime(), size: fi.Size()}
	h.Sum(st.sum[:0])
	return st
}

// changed reports whether two snapshots differ.
func changed(a, b map[string]fileState) bool {
	if len(a) != len(b) {
		return true
	}
	for p, sa := range a {
		sb, ok := b[p]
		if !ok || sa.exists != sb.exists || !sa.modTime.Equal(sb.modTime) || sa.size != sb.size || !bytes.Equal(sa.sum[:], sb.sum[:]) {
			return true
		}
	}
	return false
}

// watchFiles starts polling, when the configuration the server started with
// says reload.watch (or --watch): every reload.interval (of the
// configuration serving then) the watched files of the serving
// configuration are compared with last, and a change reloads. A reload that
// fails is not retried until the files change again. It returns at once;
// polling ends when done is closed.
func (w *fileWatch) watchFiles(ctx context.Context, srv *server.Server, last map[string]fileState, logger *slog.Logger, done <-chan struct{}) {
	g := srv.Acquire()
	on := g.Config().Reload.Watch
	g.Release()
	if !on {
		return
	}
	go func() {
		for {
			g := srv.Acquire()
			cfg := g.Config()
			g.Release()
			t := time.NewTimer(cfg.Reload.Interval)
			select {
			case <-t.C:
			case <-done:
				t.Stop()
				return
			}
			now := w.snapshot(cfg)
			if !changed(last, now) {
				continue
			}
			logger.Info("watched file changed: reloading the configuration and key files")
			srv.Reload(ctx) //nolint:errcheck // logged and counted by Reload
			g = srv.Acquire()
			last = w.snapshot(g.Config()) // the files of the configuration serving now
			g.Release()
			for p, st := range now { // what was seen, in case it changed again since
				if _, ok := last[p]; ok {
					last[p] = st
				}
			}
		}
	}()
}
