package tokenapi_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/tokenapi"
)

// checkCounter is a token endpoint whose secret checks are counted.
type checkCounter struct {
	ops          endpoint.Operations
	checks, slow atomic.Int64
	// before, when set (before any attempt), runs before each check.
	before func(secret string)
}

func newCheckCounter(t *testing.T, e *apptest.Env) *checkCounter {
	t.Helper()
	c := &checkCounter{}
	ops, err := tokenapi.Operations(tokenapi.Deps{
		Principals: e.App.Store, Revoker: e.App.Store, Keys: e.App.Signer, Issuer: e.App.Issuer, Verifier: e.App.Verifier,
		IssuerURL: e.App.Config.IssuerURL, PartnerAlgorithm: e.App.Config.PartnerAlgorithm, Now: e.App.Now,
		VerifySecret: func(secret, hash string) (bool, error) {
			if c.before != nil {
				c.before(secret)
			}
			c.checks.Add(1)
			if credential.Slow(hash) {
				c.slow.Add(1)
			}
			return credential.Verify(secret, hash)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.ops = ops
	return c
}

// attempt asks for a token as id with secret from the source address.
func (c *checkCounter) attempt(id, secret, source string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	req.RemoteAddr = source + ":40000"
	rec := httptest.NewRecorder()
	if err := c.ops["createToken"](rec, req); err != nil {
		tokenapi.WriteError(rec, req, err)
	}
	return rec
}

// TestConcurrentGuesses: 60 wrong guesses at once from one address get at
// most FailureThreshold "authentication failed" answers, the rest are told
// the address is locked (the lockout counts and decides in one conditional
// write); the right secret from that address is then refused unchecked, and
// the real client from another address still gets its token. With a short
// chosen secret at most FailureThreshold argon2id checks run (each is
// admitted before it runs); a generated secret's fast check runs first and
// never runs argon2id.
func TestConcurrentGuesses(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	partnerID, partnerSecret := e.Partner(t)
	tr := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	const shortID, shortSecret = "short-secret-client", "u7/JvJ+:X?Wc]6}."
	orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations/"+tr.childID+"/clients",
		`{"name":"Short","client_id":"`+shortID+`","client_secret":"`+shortSecret+`","additional_scopes":["openid"]}`)
	for _, tc := range []struct {
		name, id, secret string
		slow             bool
	}{
		{"generated secret (fast hash)", partnerID, partnerSecret, false},
		{"short chosen secret (argon2id)", shortID, shortSecret, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCheckCounter(t, e)
			const guesses, attacker, owner = 60, "203.0.113.66", "198.51.100.7"
			var wg sync.WaitGroup
			var unexpected, answered atomic.Int64
			for i := range guesses {
				wg.Go(func() {
					rec := c.attempt(tc.id, "wrong-guess-"+strconv.Itoa(i), attacker)
					switch {
					case rec.Code != http.StatusUnauthorized:
						unexpected.Add(1)
					case rec.Header().Get("Retry-After") == "":
						answered.Add(1) // told wrong, not locked
					}
				})
			}
			wg.Wait()
			if n := unexpected.Load(); n != 0 {
				t.Errorf("%d guesses got another status than 401", n)
			}
			if got := answered.Load(); got > tokenapi.FailureThreshold || got == 0 {
				t.Errorf("%d concurrent wrong guesses: %d answered as wrong, want 1 to %d (the rest locked)", guesses, got, tokenapi.FailureThreshold)
			}
			if tc.slow && (c.checks.Load() > tokenapi.FailureThreshold || c.slow.Load() != c.checks.Load()) {
				t.Errorf("got %d secret checks, %d of them argon2id; want at most %d, all argon2id", c.checks.Load(), c.slow.Load(), tokenapi.FailureThreshold)
			}
			if !tc.slow && c.slow.Load() != 0 {
				t.Errorf("got %d argon2id checks for a generated secret, want none", c.slow.Load())
			}
			before := c.checks.Load()
			if rec := c.attempt(tc.id, tc.secret, attacker); rec.Code != http.StatusUnauthorized || rec.Header().Get("Retry-After") == "" {
				t.Errorf("the right secret from the locked address: status %d, Retry-After %q; want 401 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
			}
			if c.checks.Load() != before {
				t.Error("the locked address's attempt was checked")
			}
			if rec := c.attempt(tc.id, tc.secret, owner); rec.Code != http.StatusOK {
				t.Errorf("the real client from another address: status %d %s, want 200", rec.Code, rec.Body)
			}
			// A right secret is no failure: the owner's address never locks.
			for i := range tokenapi.FailureThreshold + 2 {
				if rec := c.attempt(tc.id, tc.secret, owner); rec.Code != http.StatusOK {
					t.Fatalf("the real client's token %d: status %d, want 200", i+2, rec.Code)
				}
			}
		})
	}
}

// TestRightSecretAmongGuesses: a right secret that may be guessed (a
// caller's chosen one), checked at the same time as wrong guesses from its
// address, counts in turn with them. Here its check is held until 59
// wrong guesses have been answered (which lock the address): it is then
// refused as locked, though it was right and the address was not locked
// when its credential was read. A right secret that skipped the
// conditional count would get a token: many guesses sent at once would
// then test far more than FailureThreshold secrets. A generated secret
// (256 random bits) is not counted, so it gets its token: no number of
// guesses finds it.
func TestRightSecretAmongGuesses(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	generatedID, generatedSecret := e.Partner(t)
	const chosenID, chosenSecret = "chosen-long-partner", "Xk4-pQ9z-Lm2w-Rt7v-Bn5c-Hy8d-Js3f-Gq6a"
	if _, err := e.App.Admin().EnsurePartner(t.Context(), chosenID, chosenSecret); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name, id, secret string
		want             int
	}{
		{"chosen secret", chosenID, chosenSecret, http.StatusUnauthorized},
		{"generated secret", generatedID, generatedSecret, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCheckCounter(t, e)
			attacker := "203.0.113.7" + strconv.Itoa(i)
			entered, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			c.before = func(secret string) {
				if secret == tc.secret {
					once.Do(func() { close(entered) })
					<-release
				}
			}
			right := make(chan *httptest.ResponseRecorder, 1)
			go func() { right <- c.attempt(tc.id, tc.secret, attacker) }()
			<-entered // its credential was read before any failure was counted
			var wg sync.WaitGroup
			for i := range 59 {
				wg.Go(func() { c.attempt(tc.id, "wrong-guess-"+strconv.Itoa(i), attacker) })
			}
			wg.Wait()
			close(release)
			rec := <-right
			if rec.Code != tc.want || (tc.want == http.StatusUnauthorized) != (rec.Header().Get("Retry-After") != "") {
				t.Errorf("the right secret checked while the address locked: status %d, Retry-After %q, body %s; want %d (with Retry-After when 401)",
					rec.Code, rec.Header().Get("Retry-After"), rec.Body, tc.want)
			}
		})
	}
}

// TestUnknownClientNeverRunsArgon2id: guesses at an unknown client id make
// no secret check at all (only the fast dummy) and are counted like wrong
// secrets.
func TestUnknownClientNeverRunsArgon2id(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	c := newCheckCounter(t, e)
	for i := range tokenapi.FailureThreshold + 1 {
		rec := c.attempt("no-such-client", "u7/JvJ+:X?Wc]6}.", "203.0.113.67")
		if want := i == tokenapi.FailureThreshold; rec.Code != http.StatusUnauthorized || (rec.Header().Get("Retry-After") != "") != want {
			t.Fatalf("attempt %d: status %d Retry-After %q, want 401 (locked: %v)", i+1, rec.Code, rec.Header().Get("Retry-After"), want)
		}
	}
	if got := c.checks.Load(); got != 0 {
		t.Errorf("got %d secret checks for an unknown id, want 0", got)
	}
}

// TestBurstFromOneAddress: more right secrets at once from one address
// than the lockout lets argon2id checks run in flight all get tokens, and
// no failure is counted: generated secrets are never held back; short
// chosen secrets wait for a free place (at most tokenapi.AdmissionWait).
func TestBurstFromOneAddress(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	partnerID, partnerSecret := e.Partner(t)
	tr := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	// No '+' or '%' in the secret: it is checked once per attempt, not
	// also URL-decoded.
	const shortID, shortSecret = "short-burst-client", "u7/JvJ-:X?Wc]6}."
	orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations/"+tr.childID+"/clients",
		`{"name":"Short","client_id":"`+shortID+`","client_secret":"`+shortSecret+`","additional_scopes":["openid"]}`)
	for _, tc := range []struct{ name, id, secret string }{
		{"generated secret", partnerID, partnerSecret},
		{"short chosen secret", shortID, shortSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCheckCounter(t, e)
			const burst, source = 3 * tokenapi.FailureThreshold, "198.51.100.30"
			var wg sync.WaitGroup
			var refused atomic.Int64
			for range burst {
				wg.Go(func() {
					if rec := c.attempt(tc.id, tc.secret, source); rec.Code != http.StatusOK {
						refused.Add(1)
						t.Logf("status %d: %s", rec.Code, rec.Body)
					}
				})
			}
			wg.Wait()
			if n := refused.Load(); n != 0 {
				t.Errorf("%d of %d right secrets from one address refused, want none", n, burst)
			}
			if got := c.checks.Load(); got != burst {
				t.Errorf("got %d secret checks, want %d", got, burst)
			}
			if failures, pending, err := e.App.Store.Attempts(t.Context(), tc.id, source, e.App.Now().Truncate(tokenapi.FailureWindow)); err != nil || failures != 0 || pending != 0 {
				t.Errorf("after the burst: %d failures, %d in flight (%v); want none", failures, pending, err)
			}
		})
	}
}
