package keystore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxRedirects bounds a redirect chain (all on the same host).
const maxRedirects = 5

const userAgent = "jwtgate-keystore/1"

// newHTTPClient returns the store's client: the caller's (with its redirect
// policy replaced) or one of its own, with a transport the store closes.
func newHTTPClient(c *http.Client) (*http.Client, *http.Transport) {
	if c != nil {
		cp := *c
		cp.CheckRedirect = sameHostRedirect
		return &cp, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: tr, CheckRedirect: sameHostRedirect}, tr
}

// sameHostRedirect follows a redirect only to the same host and port,
// without leaving https, and at most maxRedirects times: a key set must
// come from the host it was configured (or discovered) at.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, maxRedirects)
	}
	from := via[0].URL
	if !strings.EqualFold(req.URL.Host, from.Host) {
		return fmt.Errorf("%w: %s redirects to another host (%s)", ErrRedirectRefused, from.Redacted(), req.URL.Host)
	}
	if from.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("%w: %s redirects from https to %s", ErrRedirectRefused, from.Redacted(), req.URL.Scheme)
	}
	return nil
}

// validators are the conditional-request headers of a cached response.
type validators struct {
	etag, lastModified string
}

func (v validators) any() bool { return v.etag != "" || v.lastModified != "" }

// response is a fetched document.
type response struct {
	body        []byte
	header      http.Header
	notModified bool
	validators  validators
}

// get fetches rawURL: 200 with a body of at most maxBody bytes, or 304 when
// cond was sent. Any other outcome is a *FetchError naming its kind.
func (is *issuer) get(ctx context.Context, rawURL, accept string, cond validators) (*response, error) {
	fail := func(kind string, status int, err error) error {
		return &FetchError{Issuer: is.cfg.Issuer, URL: redact(rawURL), Kind: kind, Status: status, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fail(KindNetwork, 0, err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", userAgent)
	if cond.etag != "" {
		req.Header.Set("If-None-Match", cond.etag)
	}
	if cond.lastModified != "" {
		req.Header.Set("If-Modified-Since", cond.lastModified)
	}
	resp, err := is.store.client.Do(req)
	if err != nil {
		return nil, fail(transportKind(err), 0, unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cond.any():
		return &response{header: resp.Header, notModified: true, validators: cond}, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fail(KindStatus, resp.StatusCode, fmt.Errorf("%w: %s", ErrUnexpectedStatus, resp.Status))
	}
	limit := is.cfg.MaxBody
	if resp.ContentLength > limit {
		return nil, fail(KindTooLarge, 0, fmt.Errorf("%w: Content-Length %d, the limit is %d", ErrBodyTooLarge, resp.ContentLength, limit))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fail(transportKind(err), 0, fmt.Errorf("reading the body: %w", err))
	}
	if int64(len(body)) > limit {
		return nil, fail(KindTooLarge, 0, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit))
	}
	return &response{
		body:       body,
		header:     resp.Header,
		validators: validators{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")},
	}, nil
}

// transportKind classifies a client or body-read error.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRedirectRefused):
		return KindRedirect
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	}
	return KindNetwork
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the URL
// that FetchError already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact hides a password in a URL for logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}
