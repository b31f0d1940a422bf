package signer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partnerapi/partner-api/shared/signer"
)

// fakeSource is a key ring in memory that counts its loads.
type fakeSource struct {
	mu    sync.Mutex
	keys  []signer.RingKey
	loads atomic.Int64
}

func (f *fakeSource) Load(context.Context) ([]signer.RingKey, error) {
	f.loads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signer.RingKey(nil), f.keys...), nil
}

func (f *fakeSource) add(t *testing.T, from time.Time) signer.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.PublicKey(signer.ES384, priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.keys = append(f.keys, signer.RingKey{Key: k, Private: priv, SignsFrom: from})
	f.mu.Unlock()
	return k
}

// TestUnknownKIDRefreshIsRateLimited: a kid the Signer does not know makes
// it re-read the ring at most once per MinRefreshInterval, however many
// such tokens arrive, and a key added since is then found.
func TestUnknownKIDRefreshIsRateLimited(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := &fakeSource{}
	src.add(t, now.Add(-time.Hour))
	s, err := signer.NewRing(t.Context(), src, signer.RingOptions{Now: clock, RefreshInterval: time.Hour, MinRefreshInterval: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := src.loads.Load(); got != 1 {
		t.Fatalf("loads at start: got %d, want 1", got)
	}
	for range 1000 {
		if _, ok := s.Key("no-such-kid"); ok {
			t.Fatal("an unknown kid was found")
		}
	}
	if got := src.loads.Load(); got != 2 {
		t.Errorf("loads after 1000 unknown kids: got %d, want 2 (one re-read)", got)
	}
	added := src.add(t, now.Add(time.Hour))
	if _, ok := s.Key(added.KID); ok {
		t.Error("a key added within the rate limit was found without a re-read")
	}
	now = now.Add(30 * time.Second)
	if _, ok := s.Key(added.KID); !ok {
		t.Error("a key added to the ring was not found after the rate limit")
	}
	if got := src.loads.Load(); got != 3 {
		t.Errorf("loads: got %d, want 3", got)
	}
}

// TestRingSignsInProcess: the key with the latest start among those
// signing now signs, tokens verify with the published key, and the ring is
// re-read once RefreshInterval has passed.
func TestRingSignsInProcess(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := &fakeSource{}
	old := src.add(t, now.Add(-time.Hour))
	s, err := signer.NewRing(t.Context(), src, signer.RingOptions{Now: clock, RefreshInterval: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	next := src.add(t, now.Add(10*time.Minute))
	kid := func() string {
		raw, err := s.SignJWT(t.Context(), signer.ES384, "at+jwt", map[string]any{"sub": "x"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Parse(raw, func(tok *jwt.Token) (any, error) {
			k, ok := s.Key(tok.Header["kid"].(string))
			if !ok {
				t.Fatalf("kid %v not published", tok.Header["kid"])
			}
			return k.Public, nil
		}, jwt.WithValidMethods([]string{"ES384"}))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		return tok.Header["kid"].(string)
	}
	if got := kid(); got != old.KID {
		t.Errorf("signing kid: got %s, want the old key", got)
	}
	now = now.Add(5 * time.Minute) // refresh due: the next key is loaded
	if got := kid(); got != old.KID {
		t.Errorf("signing kid before the next key starts: got %s, want the old key", got)
	}
	if len(s.JWKS().Keys) != 2 {
		t.Errorf("JWKS after refresh: %d keys, want 2", len(s.JWKS().Keys))
	}
	now = now.Add(5 * time.Minute)
	if got := kid(); got != next.KID {
		t.Errorf("signing kid once the next key starts: got %s, want the next key", got)
	}
}
