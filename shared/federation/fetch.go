// Package federation is the service's side of signing users in at an
// organisation's authorisation servers (upstream OpenID providers): fetching
// and checking their discovery documents, the authorization-code exchange,
// verifying their ID tokens against their JWKS, the federation client
// secrets (encrypted with KMS), and which servers a client's sign-in page
// offers. Every outbound request goes through Fetcher, which is safe against
// server-side request forgery.
package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Limits of every outbound request.
const (
	// DefaultTimeout bounds a whole request: connection, redirects, body.
	DefaultTimeout = 3 * time.Second
	// DefaultMaxBytes bounds a response body (256 KiB).
	DefaultMaxBytes = 256 << 10
	// MaxRedirects is the most redirects a GET follows.
	MaxRedirects = 3
)

// Policy says what Fetcher may reach.
type Policy struct {
	// AllowLoopback lets requests reach loopback addresses and plain
	// http:// URLs: the local stack only (FEDERATION_ALLOW_LOOPBACK;
	// configuration refuses it with a public https issuer). Private,
	// link-local, metadata and other special addresses stay refused.
	AllowLoopback bool
	// Timeout and MaxBytes default to DefaultTimeout and DefaultMaxBytes.
	Timeout  time.Duration
	MaxBytes int64
}

// Errors of Fetcher, wrapped with the URL.
var (
	// ErrRefusedAddress: the host resolved to an address the policy
	// refuses (checked at connection time, after DNS, on every redirect).
	ErrRefusedAddress = errors.New("federation: address refused")
	// ErrRefusedURL: not an https URL (http only on the local stack), or
	// one carrying credentials.
	ErrRefusedURL = errors.New("federation: URL refused")
	// ErrTooLarge: the body is over the policy's MaxBytes.
	ErrTooLarge = errors.New("federation: response too large")
	// ErrTooManyRedirects: more than MaxRedirects.
	ErrTooManyRedirects = errors.New("federation: too many redirects")
	// ErrStatus: the answer's status is not 2xx (a *StatusError).
	ErrStatus = errors.New("federation: unexpected status")
)

// StatusError is an ErrStatus with the status.
type StatusError struct {
	Status int
}

func (e *StatusError) Error() string { return fmt.Sprintf("federation: status %d", e.Status) }

// Unwrap makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Unwrap() error { return ErrStatus }

// Fetcher makes the service's outbound requests: no proxy, no cookies, no
// credentials in URLs, https only (unless AllowLoopback), every connection's
// address checked after DNS resolution (so a name pointing at a private
// address, or a redirect to one, is refused), at most MaxRedirects redirects
// for a GET and none for a POST, a timeout and a body cap.
type Fetcher struct {
	policy Policy
	client *http.Client
}

// NewFetcher returns a Fetcher with policy p.
func NewFetcher(p Policy) *Fetcher {
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.MaxBytes <= 0 {
		p.MaxBytes = DefaultMaxBytes
	}
	f := &Fetcher{policy: p}
	dialer := &net.Dialer{Timeout: p.Timeout, Control: f.control}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would connect for us, past the address check
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    p.Timeout,
		ResponseHeaderTimeout:  p.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        60 * time.Second,
	}
	f.client = &http.Client{Transport: transport, Timeout: p.Timeout, CheckRedirect: f.checkRedirect}
	return f
}

// Get fetches u and returns its body (status 2xx only).
func (f *Fetcher) Get(ctx context.Context, u string) ([]byte, error) {
	if err := f.CheckURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, ErrRefusedURL)
	}
	req.Header.Set("Accept", "application/json")
	status, body, err := f.do(req)
	if err == nil && (status < 200 || status > 299) {
		err = &StatusError{Status: status}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	return body, nil
}

// PostForm posts form to u, with HTTP Basic credentials when user is set,
// and returns the status and body of any answer (a 4xx carries an OAuth
// error the caller reads).
func (f *Fetcher) PostForm(ctx context.Context, u string, form url.Values, user, password string) (int, []byte, error) {
	if err := f.CheckURL(u); err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", u, ErrRefusedURL)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(password)) // RFC 6749 §2.3.1
	}
	status, body, err := f.do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", u, err)
	}
	return status, body, nil
}

// do sends req and returns the status and body (up to the cap) of any
// answer.
func (f *Fetcher) do(req *http.Request) (int, []byte, error) {
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := f.read(resp)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

// read reads resp's body up to the cap.
func (f *Fetcher) read(resp *http.Response) ([]byte, error) {
	if resp.ContentLength > f.policy.MaxBytes {
		return nil, ErrTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.policy.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > f.policy.MaxBytes {
		return nil, ErrTooLarge
	}
	return body, nil
}

// CheckURL refuses what the policy never fetches: not https (http only with
// AllowLoopback), no host, or credentials in the URL.
func (f *Fetcher) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute URL: %w", raw, ErrRefusedURL)
	case u.User != nil:
		return fmt.Errorf("%s carries credentials: %w", u.Redacted(), ErrRefusedURL)
	case u.Scheme == "https", u.Scheme == "http" && f.policy.AllowLoopback:
		return nil
	}
	return fmt.Errorf("%s is not an https URL: %w", raw, ErrRefusedURL)
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if via[0].Method != http.MethodGet {
		return fmt.Errorf("redirect of a %s to %s: %w", via[0].Method, req.URL.Redacted(), ErrRefusedURL)
	}
	if len(via) > MaxRedirects {
		return ErrTooManyRedirects
	}
	return f.CheckURL(req.URL.String())
}

// control checks the address of every connection, after DNS resolution.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%s: unparsable address: %w", address, ErrRefusedAddress)
	}
	if why := Refused(ap.Addr(), f.policy.AllowLoopback); why != "" {
		return fmt.Errorf("%s is %s: %w", ap.Addr(), why, ErrRefusedAddress)
	}
	return nil
}

// Metadata addresses of cloud providers (AWS IMDS on IPv4 and IPv6; the
// IPv4 one is link-local too, the IPv6 one unique-local).
var metadataAddrs = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254")}

// specialPrefixes are ranges that are neither private nor link-local but
// never a public server: this network, shared address space (CGNAT, where
// some clouds put metadata), IETF protocol assignments, documentation,
// benchmarking, reserved, broadcast, NAT64 and 6to4 (which embed IPv4
// addresses), discard, documentation (IPv6), Teredo.
var specialPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "100::/64", "2001:db8::/32", "2001::/32",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Refused says why a connection to a is refused ("" when it is not):
// loopback (unless allowLoopback), unspecified, cloud metadata, link-local,
// multicast, private (RFC 1918, unique-local), special-purpose ranges, and
// anything else that is not global unicast.
func Refused(a netip.Addr, allowLoopback bool) string {
	a = a.Unmap().WithZone("")
	switch {
	case !a.IsValid():
		return "not an IP address"
	case a.IsLoopback():
		if allowLoopback {
			return ""
		}
		return "a loopback address"
	case a.IsUnspecified():
		return "the unspecified address"
	}
	for _, m := range metadataAddrs {
		if a == m {
			return "a cloud metadata address"
		}
	}
	switch {
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsMulticast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "a multicast address"
	case a.IsPrivate():
		return "a private address"
	}
	for _, p := range specialPrefixes {
		if p.Contains(a) {
			return "a special-purpose address"
		}
	}
	if !a.IsGlobalUnicast() {
		return "not a global unicast address"
	}
	return ""
}
