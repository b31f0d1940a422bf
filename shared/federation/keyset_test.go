package federation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/partnerapi/partner-api/shared/federation"
)

// TestKeySetRotation: a token signed by a key the cached JWKS lacks
// refetches it (the provider rotated), at most once per MinRefresh; alg
// none never verifies.
func TestKeySetRotation(t *testing.T) {
	newKey := func(kid string) jose.JSONWebKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "ES256", Use: "sig"}
	}
	k1, k2 := newKey("k1"), newKey("k2")
	var mu sync.Mutex
	published := []jose.JSONWebKey{k1.Public()}
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: published})
	}))
	defer srv.Close()
	sign := func(k jose.JSONWebKey) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jws, _ := s.Sign([]byte(`{"sub":"x"}`))
		raw, _ := jws.CompactSerialize()
		return raw
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ks := federation.NewKeySets(federation.NewFetcher(federation.Policy{AllowLoopback: true}), clock).For(srv.URL)
	ctx := context.Background()

	if _, err := ks.VerifySignature(ctx, sign(k1)); err != nil || fetches.Load() != 1 {
		t.Fatalf("k1: %v after %d fetches, want verified after 1", err, fetches.Load())
	}
	// The provider rotates to k2; within MinRefresh of the last fetch an
	// unknown kid does not refetch.
	mu.Lock()
	published = []jose.JSONWebKey{k1.Public(), k2.Public()}
	mu.Unlock()
	if _, err := ks.VerifySignature(ctx, sign(k2)); !errors.Is(err, federation.ErrUnknownKey) || fetches.Load() != 1 {
		t.Fatalf("k2 within MinRefresh: got %v after %d fetches, want ErrUnknownKey and no fetch", err, fetches.Load())
	}
	mu.Lock()
	now = now.Add(federation.MinRefresh)
	mu.Unlock()
	if _, err := ks.VerifySignature(ctx, sign(k2)); err != nil || fetches.Load() != 2 {
		t.Fatalf("k2 after MinRefresh: got %v after %d fetches, want verified after 2", err, fetches.Load())
	}
	for range 5 { // known keys: no more fetches
		if _, err := ks.VerifySignature(ctx, sign(k1)); err != nil {
			t.Fatal(err)
		}
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + "."
	if _, err := ks.VerifySignature(ctx, none); err == nil {
		t.Error("alg none verified")
	}
	if fetches.Load() != 2 {
		t.Errorf("got %d fetches, want 2", fetches.Load())
	}
}
