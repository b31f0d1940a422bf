package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// barrierKMS answers GetPublicKey only once want calls are in flight at the
// same time, so New passes only if it makes its calls concurrently.
type barrierKMS struct {
	want    int
	keys    map[string]*kms.GetPublicKeyOutput
	mu      sync.Mutex
	waiting int
	all     chan struct{}
}

func (b *barrierKMS) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, _ ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	b.mu.Lock()
	b.waiting++
	if b.waiting == b.want {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(5 * time.Second):
		return nil, errors.New("GetPublicKey calls were not concurrent")
	}
	out, ok := b.keys[aws.ToString(in.KeyId)]
	if !ok {
		return nil, &types.NotFoundException{Message: aws.String("no such key")}
	}
	return out, nil
}

func (b *barrierKMS) Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error) {
	return nil, errors.New("not used")
}

func publicKeyOutput(t *testing.T, arn string, pub any, spec types.KeySpec, alg types.SigningAlgorithmSpec) *kms.GetPublicKeyOutput {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &kms.GetPublicKeyOutput{
		KeyId:             aws.String(arn),
		KeySpec:           spec,
		KeyUsage:          types.KeyUsageTypeSignVerify,
		SigningAlgorithms: []types.SigningAlgorithmSpec{alg},
		PublicKey:         der,
	}
}

func TestNewLoadsKeysConcurrently(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	p384old, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	client := &barrierKMS{
		want: 4,
		all:  make(chan struct{}),
		keys: map[string]*kms.GetPublicKeyOutput{
			"es384":     publicKeyOutput(t, "arn:es384", &p384.PublicKey, types.KeySpecEccNistP384, types.SigningAlgorithmSpecEcdsaSha384),
			"es512":     publicKeyOutput(t, "arn:es512", &p521.PublicKey, types.KeySpecEccNistP521, types.SigningAlgorithmSpecEcdsaSha512),
			"ps256":     publicKeyOutput(t, "arn:ps256", &rsaKey.PublicKey, types.KeySpecRsa2048, types.SigningAlgorithmSpecRsassaPssSha256),
			"es384-old": publicKeyOutput(t, "arn:es384-old", &p384old.PublicKey, types.KeySpecEccNistP384, types.SigningAlgorithmSpecEcdsaSha384),
		},
	}
	s, err := New(t.Context(), client, []KeyConfig{
		{Algorithm: ES384, KeyID: "es384"},
		{Algorithm: ES512, KeyID: "es512"},
		{Algorithm: PS256, KeyID: "ps256"},
	}, []string{"es384-old"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got, want := len(s.JWKS().Keys), 4; got != want {
		t.Errorf("JWKS keys: got %d, want %d", got, want)
	}
	for alg, arn := range map[Algorithm]string{ES384: "arn:es384", ES512: "arn:es512", PS256: "arn:ps256"} {
		if got := s.keys.Load().signingKey(alg, time.Now()).key.KeyARN; got != arn {
			t.Errorf("%s key ARN: got %q, want %q", alg, got, arn)
		}
	}
}

func TestCheckPublicKey(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := func() *kms.GetPublicKeyOutput {
		return publicKeyOutput(t, "arn:k", &p384.PublicKey, types.KeySpecEccNistP384, types.SigningAlgorithmSpecEcdsaSha384)
	}
	tests := []struct {
		name    string
		out     func() *kms.GetPublicKeyOutput
		want    Algorithm
		wantAlg Algorithm
		wantErr bool
	}{
		{name: "fits", out: good, want: ES384, wantAlg: ES384},
		{name: "retired: algorithm from key spec", out: good, wantAlg: ES384},
		{name: "moto: only CustomerMasterKeySpec", want: ES384, wantAlg: ES384, out: func() *kms.GetPublicKeyOutput {
			o := good()
			//lint:ignore SA1019 moto fills only the deprecated field; this case reproduces it
			o.KeySpec, o.CustomerMasterKeySpec = "", types.CustomerMasterKeySpecEccNistP384
			return o
		}},
		{name: "spec for another algorithm", out: good, want: ES512, wantErr: true},
		{name: "no key spec", wantErr: true, out: func() *kms.GetPublicKeyOutput {
			o := good()
			o.KeySpec = ""
			return o
		}},
		{name: "unsupported key spec", wantErr: true, out: func() *kms.GetPublicKeyOutput {
			return publicKeyOutput(t, "arn:k", &p256.PublicKey, types.KeySpecEccNistP256, types.SigningAlgorithmSpecEcdsaSha256)
		}},
		{name: "wrong usage", want: ES384, wantErr: true, out: func() *kms.GetPublicKeyOutput {
			o := good()
			o.KeyUsage = types.KeyUsageTypeGenerateVerifyMac
			return o
		}},
		{name: "signing algorithm missing", want: ES384, wantErr: true, out: func() *kms.GetPublicKeyOutput {
			o := good()
			o.SigningAlgorithms = []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha256}
			return o
		}},
		{name: "key material on another curve", want: ES384, wantErr: true, out: func() *kms.GetPublicKeyOutput {
			return publicKeyOutput(t, "arn:k", &p521.PublicKey, types.KeySpecEccNistP384, types.SigningAlgorithmSpecEcdsaSha384)
		}},
		{name: "not DER", want: ES384, wantErr: true, out: func() *kms.GetPublicKeyOutput {
			o := good()
			o.PublicKey = []byte("not a key")
			return o
		}},
		{name: "no key id", want: ES384, wantErr: true, out: func() *kms.GetPublicKeyOutput {
			o := good()
			o.KeyId = nil
			return o
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkPublicKey(tc.out(), tc.want)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("checkPublicKey: got %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("checkPublicKey: %v", err)
			}
			if got.Algorithm != tc.wantAlg {
				t.Errorf("algorithm: got %s, want %s", got.Algorithm, tc.wantAlg)
			}
			if got.KeyARN != "arn:k" {
				t.Errorf("key ARN: got %q, want %q", got.KeyARN, "arn:k")
			}
			if !p384.PublicKey.Equal(got.Public) {
				t.Errorf("public key: got %v, want the P-384 key", got.Public)
			}
		})
	}
}
