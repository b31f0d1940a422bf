package keyring_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/keyring"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// countingKMS counts Encrypt and Decrypt calls.
type countingKMS struct {
	keyring.KMS
	encrypts, decrypts atomic.Int64
}

func (c *countingKMS) Encrypt(ctx context.Context, in *kms.EncryptInput, o ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	c.encrypts.Add(1)
	return c.KMS.Encrypt(ctx, in, o...)
}

func (c *countingKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, o ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	c.decrypts.Add(1)
	return c.KMS.Decrypt(ctx, in, o...)
}

// fixture is a fresh table and wrapping key on the emulators.
type fixture struct {
	table       *store.Table
	kms         *countingKMS
	wrappingKey string
	clock       *apptest.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	db := testenv.DynamoDB(t)
	name := "keyring-" + uuid.NewString()[:8]
	if err := store.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	k := testenv.KMS(t)
	created, err := k.CreateKey(ctx, &kms.CreateKeyInput{KeyUsage: types.KeyUsageTypeEncryptDecrypt, KeySpec: types.KeySpecSymmetricDefault})
	if err != nil {
		t.Fatal(err)
	}
	c := apptest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return &fixture{
		table: store.New(db, name, c.Now), kms: &countingKMS{KMS: k},
		wrappingKey: aws.ToString(created.KeyMetadata.Arn), clock: c,
	}
}

func (f *fixture) ring() *keyring.Ring {
	return keyring.New(f.table, f.kms, f.wrappingKey, keyring.DefaultPolicy, f.clock.Now)
}

func (f *fixture) signer(t *testing.T, sign bool) *signer.Signer {
	t.Helper()
	s, err := signer.NewRing(t.Context(), f.ring().Source(sign), signer.RingOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const issuer = "https://partner-api.test"

// relyingParty verifies tokens with a copy of the JWKS it fetches over
// "HTTP" and keeps for the max-age the JWKS endpoint sends, as a careful
// client does.
type relyingParty struct {
	from    *signer.Signer // the JWKS endpoint's signer
	now     func() time.Time
	maxAge  time.Duration
	keys    map[string]signer.Key
	fetched time.Time
}

func (rp *relyingParty) Key(kid string) (signer.Key, bool) {
	if rp.keys == nil || rp.now().Sub(rp.fetched) >= rp.maxAge {
		body, _ := json.Marshal(rp.from.JWKS())
		var set signer.JWKSet
		_ = json.Unmarshal(body, &set)
		rp.keys = map[string]signer.Key{}
		for _, j := range set.Keys {
			k, err := signer.ParseJWK(j)
			if err != nil {
				panic(err)
			}
			rp.keys[k.KID] = k
		}
		rp.fetched = rp.now()
	}
	k, ok := rp.keys[kid]
	return k, ok
}

// TestFullRotation drives the ring through two rotations with a fake
// clock: signers started before each rotation keep signing, verifiers
// started before it (the management functions) and a relying party
// caching the JWKS for its max-age keep verifying, and no token ever fails
// verification from its issue to its expiry.
func TestFullRotation(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.ring().Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	p := keyring.DefaultPolicy
	signers := []*signer.Signer{f.signer(t, true), f.signer(t, true)}
	verifiers := []token.Keys{f.signer(t, false), f.signer(t, false)}
	verifiers = append(verifiers, &relyingParty{from: signers[0], now: f.clock.Now, maxAge: p.JWKSCacheLifetime})

	type issued struct {
		raw     string
		expires time.Time
		kid     string
	}
	var live []issued
	kids := map[string]bool{}
	step := 15 * time.Minute
	start := f.clock.Now()
	// After 2 h 15 min (just after the relying party fetched the JWKS) and a
	// day later.
	rotations := map[int]bool{9: true, 9 + 24*4: true}
	for i := 0; f.clock.Now().Before(start.Add(60 * time.Hour)); i++ {
		if rotations[i] {
			rep, err := f.ring().Rotate(ctx)
			if err != nil {
				t.Fatalf("rotate: %v", err)
			}
			if len(rep.Created) != len(keyring.Algorithms) {
				t.Fatalf("rotation at step %d created %v, want a key per algorithm", i, rep.Created)
			}
		}
		now := f.clock.Now()
		for j, s := range signers {
			alg := signer.ES384
			if (i+j)%5 == 0 {
				alg = signer.PS256
			}
			iss := token.NewIssuer(s, issuer, issuer, f.clock.Now)
			raw, claims, err := iss.Issue(ctx, token.Subject{
				ClientID: "c1", PartnerID: "c1", Algorithm: alg, Lifetime: p.MaxTokenLifetime,
			}, "x")
			if err != nil {
				t.Fatalf("step %d: issue: %v", i, err)
			}
			tok, _, _ := jwt.NewParser().ParseUnverified(raw, &jwt.RegisteredClaims{})
			kid := tok.Header["kid"].(string)
			kids[kid] = true
			live = append(live, issued{raw: raw, expires: claims.ExpiresAt.Time, kid: kid})
		}
		kept := live[:0]
		for _, tk := range live {
			if now.After(tk.expires.Add(-time.Second)) {
				continue
			}
			kept = append(kept, tk)
		}
		live = kept
		// Every live token: the newest, the oldest, and a spread between.
		for n, tk := range live {
			if n != 0 && n != len(live)-1 && n%41 != 0 {
				continue
			}
			for v, keys := range verifiers {
				if _, err := token.NewVerifier(keys, nil, issuer, issuer, f.clock.Now).Parse(tk.raw); err != nil {
					t.Fatalf("step %d (%s after start): verifier %d refused a token of key %s issued %s before: %v",
						i, now.Sub(start), v, tk.kid, tk.expires.Add(-p.MaxTokenLifetime).Sub(now), err)
				}
			}
		}
		f.clock.Advance(step)
	}
	// Three generations of each algorithm signed.
	if got, want := len(kids), 6; got != want {
		t.Errorf("kids that signed: got %d, want %d (three ES384, three PS256)", got, want)
	}
	rep, err := f.ring().Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, k := range rep.Keys {
		if k.Algorithm == string(signer.ES384) {
			statuses[k.Status]++
		}
	}
	// 60 h after start: generation 1 retired (superseded at ~3 h, +24 h),
	// generation 2 too (superseded at ~27 h), generation 3 active, and the
	// last Rotate's key pending.
	want := map[string]int{store.KeyRetired: 2, store.KeyActive: 1, store.KeyPending: 1}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("ES384 statuses after the run: got %v, want %v", statuses, want)
	}
}

// TestNewKeyPublishedBeforeItSigns: a rotated-in key is in the JWKS at
// once and signs only after the lead time; the old key stays published
// until its last token has expired.
func TestNewKeyPublishedBeforeItSigns(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.ring().Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s := f.signer(t, true)
	oldKID := signingKID(t, s)
	rep, err := f.ring().Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	newKID := ""
	for _, k := range rep.Keys {
		if k.Algorithm == string(signer.ES384) && k.Status == store.KeyPending {
			newKID = k.KID
		}
	}
	p := keyring.DefaultPolicy
	if _, ok := s.Key(newKID); !ok {
		t.Fatal("the pending key is not published")
	}
	if got := signingKID(t, s); got != oldKID {
		t.Fatalf("just after rotation the signing kid is %s, want the old %s", got, oldKID)
	}
	if p.Lead() < p.JWKSCacheLifetime+p.RefreshInterval {
		t.Fatalf("lead %s is shorter than a JWKS cache lifetime and a refresh", p.Lead())
	}
	f.clock.Advance(p.Lead() - time.Second)
	if got := signingKID(t, s); got != oldKID {
		t.Errorf("a second before the lead ends the signing kid is %s, want the old %s", got, oldKID)
	}
	f.clock.Advance(time.Second)
	if got := signingKID(t, s); got != newKID {
		t.Errorf("at the end of the lead the signing kid is %s, want the new %s", got, newKID)
	}
	f.clock.Advance(p.MaxTokenLifetime)
	if _, ok := s.Key(oldKID); !ok {
		t.Error("the old key left the JWKS before its last token expired")
	}
	f.clock.Advance(p.ClockSkew)
	if _, ok := s.Key(oldKID); ok {
		t.Error("the old key is still published after its last token expired")
	}
}

func signingKID(t *testing.T, s *signer.Signer) string {
	t.Helper()
	raw, err := s.SignJWT(t.Context(), signer.ES384, "at+jwt", map[string]any{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header["kid"].(string)
}

// TestOneDecryptPerKey: a signing process decrypts a key when it first
// signs with it, once, however often it signs or re-reads the ring (so a
// cold start decrypts only the key its first token needs); a verifying
// process never calls KMS.
func TestOneDecryptPerKey(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.ring().Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.kms.encrypts.Load(); got != 3 {
		t.Errorf("Encrypt calls for three new keys: got %d, want 3", got)
	}
	f.kms.decrypts.Store(0)
	s := f.signer(t, true)
	if got := f.kms.decrypts.Load(); got != 0 {
		t.Errorf("Decrypt calls at start: got %d, want 0 (none signed yet)", got)
	}
	for range 3 {
		signingKID(t, s)
		f.clock.Advance(signer.DefaultRefreshInterval) // the next use re-reads the ring
	}
	if got := f.kms.decrypts.Load(); got != 1 {
		t.Errorf("Decrypt calls after ES384 tokens and refreshes: got %d, want 1", got)
	}
	var wg sync.WaitGroup
	for range 8 { // a burst of first PS256 tokens: one Decrypt
		wg.Go(func() {
			if _, err := s.SignJWT(ctx, signer.PS256, "at+jwt", map[string]any{"x": 1}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.kms.decrypts.Load(); got != 2 {
		t.Errorf("Decrypt calls after PS256 tokens: got %d, want 2", got)
	}
	if _, err := f.ring().Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(keyring.DefaultPolicy.Lead())
	signingKID(t, s)
	if got := f.kms.decrypts.Load(); got != 3 {
		t.Errorf("Decrypt calls once the rotated ES384 key signs: got %d, want 3", got)
	}
	f.kms.decrypts.Store(0)
	v := f.signer(t, false)
	if _, ok := v.Key(signingKID(t, s)); !ok {
		t.Error("a verifier does not know the signing key")
	}
	if got := f.kms.decrypts.Load(); got != 0 {
		t.Errorf("Decrypt calls of a verifier: got %d, want 0", got)
	}
}

// TestWrappedKeyBoundToKID: a wrapped key decrypts only under the
// encryption context naming its own kid and purpose.
func TestWrappedKeyBoundToKID(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.ring().Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := f.table.SigningKeys(ctx)
	if err != nil || len(keys) != 3 {
		t.Fatalf("keys = %d, %v", len(keys), err)
	}
	a, b := keys[0], keys[1]
	decrypt := func(blob []byte, ec map[string]string) error {
		_, err := f.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: aws.String(f.wrappingKey)})
		return err
	}
	if err := decrypt(a.WrappedKey, keyring.EncryptionContext(a.KID)); err != nil {
		t.Fatalf("own context: %v", err)
	}
	if err := decrypt(a.WrappedKey, keyring.EncryptionContext(b.KID)); err == nil {
		t.Error("decrypted under another kid's context")
	}
	if err := decrypt(a.WrappedKey, nil); err == nil {
		t.Error("decrypted without an encryption context")
	}
	// A ciphertext moved to another key's item never signs.
	for _, k := range keys {
		if k.KID != a.KID {
			k.WrappedKey = a.WrappedKey
			if _, err := f.table.UpdateSigningKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := signer.NewRing(ctx, f.ring().Source(true), signer.RingOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range keyring.Algorithms {
		if alg == signer.Algorithm(a.Algorithm) {
			continue
		}
		_, err = s.SignJWT(ctx, alg, "at+jwt", map[string]any{"x": 1})
		var invalid *types.InvalidCiphertextException
		if err == nil || !errors.As(err, &invalid) {
			t.Errorf("%s with a swapped ciphertext: err = %v, want InvalidCiphertextException", alg, err)
		}
	}
}
