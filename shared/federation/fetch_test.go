package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/federation"
)

func TestRefusedAddressClasses(t *testing.T) {
	for _, tc := range []struct {
		addr          string
		allowLoopback bool
		want          string // "" allowed
	}{
		{"8.8.8.8", false, ""},
		{"2606:4700:4700::1111", false, ""},
		{"127.0.0.1", false, "loopback"},
		{"127.0.0.1", true, ""},
		{"::1", false, "loopback"},
		{"::ffff:127.0.0.1", false, "loopback"},
		{"10.0.0.1", true, "private"},
		{"172.16.5.4", false, "private"},
		{"192.168.1.1", false, "private"},
		{"fc00::1", false, "private"},
		{"169.254.169.254", true, "metadata"},
		{"fd00:ec2::254", true, "metadata"},
		{"169.254.1.1", false, "link-local"},
		{"fe80::1", false, "link-local"},
		{"224.0.0.1", false, "multicast"},
		{"ff02::1", false, "multicast"},
		{"0.0.0.0", true, "unspecified"},
		{"::", true, "unspecified"},
		{"100.100.100.200", false, "special"},
		{"64:ff9b::a00:1", false, "special"},
		{"255.255.255.255", false, "special"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			got := federation.Refused(netip.MustParseAddr(tc.addr), tc.allowLoopback)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFetcherRefuses dials refused addresses for real: the dialer's
// Control refuses them before any packet is sent.
func TestFetcherRefuses(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer ok.Close()
	redirectTo := func(target string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target, http.StatusFound)
		}))
	}
	private := redirectTo("http://10.0.0.1/doc")
	defer private.Close()
	metadata := redirectTo("http://169.254.169.254/latest/meta-data/")
	defer metadata.Close()
	var loop *httptest.Server
	loop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/again", http.StatusFound)
	}))
	defer loop.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 1024))
		for range 300 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	loopback := federation.NewFetcher(federation.Policy{AllowLoopback: true, Timeout: 500 * time.Millisecond})
	strict := federation.NewFetcher(federation.Policy{Timeout: 500 * time.Millisecond})
	for _, tc := range []struct {
		name string
		f    *federation.Fetcher
		url  string
		want error // nil: a timeout
	}{
		{"10.0.0.1", loopback, "http://10.0.0.1/doc", federation.ErrRefusedAddress},
		{"169.254.169.254", loopback, "http://169.254.169.254/latest/meta-data/", federation.ErrRefusedAddress},
		{"fd00:ec2::254", loopback, "http://[fd00:ec2::254]/latest/meta-data/", federation.ErrRefusedAddress},
		{"127.0.0.1 without the setting", strict, "https://127.0.0.1:1/doc", federation.ErrRefusedAddress},
		{"localhost without the setting, after DNS", strict, "https://localhost:1/doc", federation.ErrRefusedAddress},
		{"::1 without the setting", strict, "https://[::1]:1/doc", federation.ErrRefusedAddress},
		{"http without the setting", strict, "http://example.com/doc", federation.ErrRefusedURL},
		{"credentials in the URL", loopback, strings.Replace(ok.URL, "http://", "http://user:pw@", 1), federation.ErrRefusedURL},
		{"redirect to a private address", loopback, private.URL, federation.ErrRefusedAddress},
		{"redirect to the metadata address", loopback, metadata.URL, federation.ErrRefusedAddress},
		{"too many redirects", loopback, loop.URL, federation.ErrTooManyRedirects},
		{"huge body", loopback, huge.URL, federation.ErrTooLarge},
		{"slow server", loopback, slow.URL, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := tc.f.Get(context.Background(), tc.url)
			if err == nil {
				t.Fatal("got no error")
			}
			if tc.want == nil {
				var to interface{ Timeout() bool }
				if !errors.As(err, &to) || !to.Timeout() {
					t.Fatalf("got %v, want a timeout", err)
				}
				if d := time.Since(start); d > 1500*time.Millisecond {
					t.Errorf("took %v, want about the 500 ms timeout", d)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if body, err := loopback.Get(context.Background(), ok.URL); err != nil || string(body) != "{}" {
		t.Errorf("loopback allowed: got %q, %v; want {}", body, err)
	}
}

func TestFetcherPostDoesNotFollowRedirects(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect was followed")
	}))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	f := federation.NewFetcher(federation.Policy{AllowLoopback: true})
	if _, _, err := f.PostForm(context.Background(), srv.URL, nil, "id", "secret"); !errors.Is(err, federation.ErrRefusedURL) {
		t.Fatalf("got %v, want ErrRefusedURL", err)
	}
}
