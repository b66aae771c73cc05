package keystore

import (
	"fmt"
	"io"
	"os"

	"github.com/jwtgate/jwtgate/engine"
)

// loadInline parses the inline JWKS and takes the pre-built Keys. A bad
// inline JWKS is a configuration error.
func (is *issuer) loadInline() error {
	var keys []*engine.Key
	if len(is.cfg.JWKS) > 0 {
		parsed, skipped, err := ParseJWKS(is.cfg.JWKS, ParseOptions{Algorithms: is.cfg.Algorithms, MaxSize: is.cfg.MaxBody})
		is.logSkipped("inline JWKS", skipped)
		if err != nil {
			return fmt.Errorf("%w: %s: JWKS: %w", ErrConfig, is.desc, err)
		}
		keys = parsed
	}
	keys = append(keys, is.cfg.Keys...)
	is.mu.Lock()
	defer is.mu.Unlock()
	is.inline = keys
	if err := is.installLocked(nil, nil); err != nil {
		is.inline = nil
		return fmt.Errorf("%w: %s: %w", ErrConfig, is.desc, err)
	}
	if len(keys) > 0 {
		is.lastRefresh = is.store.clock.Now()
	}
	return nil
}

// loadFiles reads JWKSFile and PEMFiles and installs their keys. Any error
// is returned and leaves the published keys as they were.
func (is *issuer) loadFiles() error {
	if is.cfg.JWKSFile == "" && len(is.cfg.PEMFiles) == 0 {
		return nil
	}
	keys, err := is.readFiles()
	if err == nil {
		err = is.setFiles(keys)
		if err != nil {
			err = fmt.Errorf("%w: %s: %w", ErrConfig, is.desc, err)
		}
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	if err != nil {
		is.lastError = err.Error()
		return err
	}
	is.lastRefresh, is.lastError = is.store.clock.Now(), ""
	return nil
}

func (is *issuer) readFiles() ([]*engine.Key, error) {
	var keys []*engine.Key
	if path := is.cfg.JWKSFile; path != "" {
		data, err := readFileCapped(path, is.cfg.MaxBody)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: JWKSFile: %w", ErrConfig, is.desc, err)
		}
		parsed, skipped, err := ParseJWKS(data, ParseOptions{Algorithms: is.cfg.Algorithms, MaxSize: is.cfg.MaxBody})
		is.logSkipped("JWKSFile "+path, skipped)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: JWKSFile %s: %w", ErrConfig, is.desc, path, err)
		}
		keys = append(keys, parsed...)
	}
	for _, path := range is.cfg.PEMFiles {
		data, err := readFileCapped(path, MaxPEMSize)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: PEMFiles: %w", ErrConfig, is.desc, err)
		}
		parsed, err := ParsePEM(data, is.cfg.Algorithms)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: PEM file %s: %w", ErrConfig, is.desc, path, err)
		}
		keys = append(keys, parsed...)
	}
	return keys, nil
}

// readFileCapped reads at most limit bytes of a file and fails if it is larger.
func readFileCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrDocumentTooLarge, path, limit)
	}
	return data, nil
}
