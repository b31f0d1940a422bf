package signin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

// SkipBrowserEnv lets a developer without chromium skip the real-browser
// test; without it a missing browser fails the test (CI installs it).
const SkipBrowserEnv = "SIGNIN_SKIP_BROWSER"

// chromium finds Debian's chromium (or CHROMIUM_PATH).
func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv(SkipBrowserEnv) != "" {
		t.Skipf("%s is set", SkipBrowserEnv)
	}
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("chromium is not installed (apt-get install chromium; .ci/run does); set %s=1 to skip this test", SkipBrowserEnv)
	return ""
}

// TestSignInInBrowser signs in on the hosted page in a real browser by
// clicking a persona, ends at the client's redirect URI with a code that
// exchanges for tokens, and saves a screenshot of the page for the README
// (docs/signin.png).
func TestSignInInBrowser(t *testing.T) {
	exe := chromium(t)
	codes := make(chan string, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case codes <- r.URL.Query().Get("code"):
		default:
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("signed in"))
	}))
	defer callback.Close()

	f := newFixture(t, clientOpts{})
	f.redirect = callback.URL + "/callback"
	id, sec := f.newClient(t, clientOpts{alg: "ES384", redirect: f.redirect})
	r := newRP(t, f, id, sec, "openid", "profile", "email")
	verifier := oauth2.GenerateVerifier()
	authURL := r.conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(900, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first Run starts the browser, which lives as long as its
	// context: no timeout on that one, a timeout on each step after.
	if _, err := chromedp.Run(ctx, chromedp.Navigate(authURL)); err != nil {
		t.Fatalf("browser: navigate: %v", err)
	}
	step := func(name string, run func(context.Context) error) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := run(sctx); err != nil {
			t.Fatalf("browser: %s: %v", name, err)
		}
	}
	persona := `button[value="sandbox:alice"]`
	var shot []byte
	var lang string
	step("wait for the page", func(c context.Context) error { _, err := chromedp.Run(c, chromedp.WaitVisible(persona)); return err })
	step("read lang", func(c context.Context) error {
		res, err := chromedp.Run(c, chromedp.AttributeValue("html", "lang"))
		lang = res.Value
		return err
	})
	step("screenshot", func(c context.Context) (err error) {
		shot, err = chromedp.Run(c, chromedp.FullScreenshot(100))
		return err
	})
	step("click a persona", func(c context.Context) error { _, err := chromedp.Run(c, chromedp.Click(persona)); return err })
	if lang != "en" {
		t.Errorf("got lang %q, want en", lang)
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(20 * time.Second):
		t.Fatal("the browser never reached the redirect URI")
	}
	if code == "" {
		t.Fatal("the redirect carried no code")
	}
	if _, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange the browser's code: %v", err)
	}
	// The screenshot goes to the test's temporary folder, or to the
	// README's docs/signin.png with UPDATE_SCREENSHOT=1 (so that a test run
	// leaves the working tree as it was).
	dir := t.TempDir()
	if os.Getenv("UPDATE_SCREENSHOT") != "" {
		dir = filepath.Join("..", "..", "docs")
	}
	if err := os.WriteFile(filepath.Join(dir, "signin.png"), shot, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}

// TestFederatedSignInInBrowser signs in in a real browser through an
// upstream OpenID provider (mockoidc on loopback): click the
// organisation's authorisation server, the browser goes there (the page's
// CSP form-action allows its origin), comes back to our callback and on to
// the client's redirect URI with a code that exchanges for tokens.
func TestFederatedSignInInBrowser(t *testing.T) {
	exe := chromium(t)
	codes := make(chan string, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case codes <- r.URL.Query().Get("code") + r.URL.Query().Get("error"):
		default:
		}
		_, _ = w.Write([]byte("signed in"))
	}))
	defer callback.Close()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })

	f := newFixture(t, clientOpts{})
	f.redirect = callback.URL + "/callback"
	id, sec := f.newClient(t, clientOpts{alg: "ES384", redirect: f.redirect})
	asID := f.newServer(t, m.DiscoveryEndpoint(), m.Config().ClientID, m.Config().ClientSecret, nil)
	r := newRP(t, f, id, sec, "openid", "email")
	verifier := oauth2.GenerateVerifier()
	authURL := r.conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))

	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(900, 900))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(authURL)); err != nil {
		t.Fatalf("browser: navigate: %v", err)
	}
	button := `button[value="federation:` + asID + `"]`
	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	defer scancel()
	if _, err := chromedp.Run(sctx, chromedp.WaitVisible(button)); err != nil {
		t.Fatalf("browser: wait for the authorisation server's button: %v", err)
	}
	if _, err := chromedp.Run(sctx, chromedp.Click(button)); err != nil {
		t.Fatalf("browser: choose the authorisation server: %v", err)
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(20 * time.Second):
		t.Fatal("the browser never reached the redirect URI")
	}
	tok, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the browser's code %q: %v", code, err)
	}
	if _, err := r.verifier.Verify(r.ctx, tok.Extra("id_token").(string)); err != nil {
		t.Errorf("verify the ID token: %v", err)
	}
}
