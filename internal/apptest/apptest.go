// Package apptest builds a complete App for integration tests: a fresh
// DynamoDB table and fresh KMS keys on the emulators testenv provides, a
// controllable clock, a captured log, and every endpoint group served over
// real HTTP on loopback.
//
// Packages using it call testenv.Main from TestMain.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/localdev"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/signer"
)

// Env is one test's running service.
type Env struct {
	App    *app.App
	Server *httptest.Server
	Clock  *Clock
	// Log is what the service logged, through the production Lambda logger.
	Log *testenv.Log
}

// Options change the configuration of New.
type Options struct {
	// PartnerAlgorithm signs partner tokens (ES384 when empty).
	PartnerAlgorithm signer.Algorithm
	// HTTPClient, when set, carries every AWS call of the App (tests count
	// calls with it).
	HTTPClient aws.HTTPClient
	// SigningMode is the signing mode (wrapped when empty).
	SigningMode config.SigningMode
	// MeterTimeout bounds each usage counter write (usage.MeterTimeout
	// when zero). Bursts against DynamoDB Local under the race detector
	// take far longer than DynamoDB, so tests counting them allow more.
	MeterTimeout time.Duration
	// LoopbackIssuer makes the server's own loopback URL the issuer (as
	// relying-party libraries and browsers need it to be reachable); the
	// default is https://partner-api.test.
	LoopbackIssuer bool
	// Env sets more configuration variables (e.g. a low
	// MANAGEMENT_WRITES_PER_MINUTE), through the same config.FromEnv.
	Env map[string]string
}

// New provisions a fresh table and keys and starts the service.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	suffix := uuid.NewString()[:8]
	issuer := "https://partner-api.test"
	srv := httptest.NewUnstartedServer(nil)
	if opts.LoopbackIssuer {
		issuer = "http://" + srv.Listener.Addr().String()
	}
	allowLoopback := "false"
	if opts.LoopbackIssuer {
		allowLoopback = "true" // upstream providers in tests run on loopback
	}
	env := map[string]string{
		"TABLE_NAME":                "test-" + suffix,
		"ISSUER_URL":                issuer,
		"KMS_KEY_PS256":             "alias/test-" + suffix + "-ps256",
		"KMS_KEY_ES384":             "alias/test-" + suffix + "-es384",
		"KMS_KEY_ES512":             "alias/test-" + suffix + "-es512",
		"PARTNER_TOKEN_ALG":         string(opts.PartnerAlgorithm),
		"SIGNING_MODE":              string(opts.SigningMode),
		"LOG_LEVEL":                 "debug",
		"FEDERATION_KEY":            "alias/test-" + suffix + "-federation",
		"FEDERATION_ALLOW_LOOPBACK": allowLoopback,
	}
	maps.Copy(env, opts.Env)
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	testenv.DynamoDB(t) // fails the test when no emulator endpoint is set
	testenv.KMS(t)
	awsCfg := testenv.AWSConfig(t)
	if opts.HTTPClient != nil {
		awsCfg.HTTPClient = opts.HTTPClient
	}
	if err := localdev.Provision(ctx, cfg, awsCfg); err != nil {
		t.Fatalf("provision: %v", err)
	}
	e := &Env{Clock: NewClock(time.Now())}
	logger, log := testenv.LambdaLogger(t)
	e.Log = log
	full, err := app.Build(ctx, cfg, awsCfg, logger, app.Options{Now: e.Clock.Now, Groups: groups.All()})
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	e.App = full
	if opts.MeterTimeout > 0 {
		e.App.Meter = e.App.Meter.WithTimeout(opts.MeterTimeout)
	}
	mux, err := e.App.Mux()
	if err != nil {
		t.Fatalf("mux: %v", err)
	}
	srv.Config.Handler = mux
	srv.Start()
	e.Server = srv
	t.Cleanup(e.Server.Close)
	return e
}

// Partner creates a partner account through the admin service and returns
// its client id and secret.
func (e *Env) Partner(t testing.TB) (id, secret string) {
	t.Helper()
	resp, err := e.App.Admin().Handle(context.Background(), admin.Request{Action: admin.ActionCreate, Name: "Test partner"})
	if err != nil {
		t.Fatalf("create partner: %v", err)
	}
	return resp.PartnerID, resp.ClientSecret
}

// Token gets an access token for id and secret with the given form
// parameters added (e.g. "scope"), failing the test unless it gets one.
func (e *Env) Token(t testing.TB, id, secret string, extra url.Values) string {
	t.Helper()
	resp := e.TokenRequest(t, id, secret, extra)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token for %s: status %d, body %s", id, resp.StatusCode, resp.Body)
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || body.AccessToken == "" {
		t.Fatalf("token for %s: body %s (%v)", id, resp.Body, err)
	}
	return body.AccessToken
}

// Response is a response with its body read.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends req to the test server and reads the whole response.
func (e *Env) Do(t testing.TB, req *http.Request) Response {
	t.Helper()
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
}

// Clock is a settable clock for the service under test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers (the log).
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
