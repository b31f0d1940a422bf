package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestFederationFlow: a flow is claimed once; a second claim gets the flow
// with ErrUsed (so the caller can still answer the client); an unknown or
// expired one is ErrGone.
func TestFederationFlow(t *testing.T) {
	tb := newOrgTable(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	f := Flow{
		SessionID: "sess", ClientID: "client", PartnerID: "p", OrganisationID: "o", ServerID: "as",
		Request: `{"client_id":"client"}`, Nonce: "n", Verifier: "v", ExpiresAt: now.Add(10 * time.Minute),
	}
	if err := tb.PutFlow(ctx, "h1", f); err != nil {
		t.Fatal(err)
	}
	if err := tb.PutFlow(ctx, "h1", f); err == nil {
		t.Error("a second flow with one state hash was stored")
	}
	got, err := tb.ClaimFlow(ctx, "h1")
	if err != nil || !reflect.DeepEqual(got, f) {
		t.Fatalf("claim: got %+v, %v; want %+v", got, err, f)
	}
	got, err = tb.ClaimFlow(ctx, "h1")
	if !errors.Is(err, ErrUsed) || got.ClientID != "client" {
		t.Errorf("second claim: got %+v, %v; want the flow and ErrUsed", got, err)
	}
	if _, err := tb.ClaimFlow(ctx, "unknown"); !errors.Is(err, ErrGone) {
		t.Errorf("unknown: got %v, want ErrGone", err)
	}
	f.ExpiresAt = now.Add(-time.Second)
	if err := tb.PutFlow(ctx, "h2", f); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.ClaimFlow(ctx, "h2"); !errors.Is(err, ErrGone) {
		t.Errorf("expired: got %v, want ErrGone", err)
	}
}

// TestAuthServerFederationFields round-trips the discovery data, groups
// and the federation credentials, and an update that clears them.
func TestAuthServerFederationFields(t *testing.T) {
	tb := newOrgTable(t)
	org := newOrg(t, tb, "p", nil)
	a := newAuthServer(org)
	a.ProviderGroups = []string{"retail"}
	a.FederationClientID, a.FederationSecret = "broker", []byte{1, 2, 3}
	a.Discovery = Discovery{Issuer: "https://i", AuthorizationEndpoint: "https://i/a", TokenEndpoint: "https://i/t", JWKSURI: "https://i/k",
		SigningAlgs: []string{"RS256"}, FetchedAt: "2026-11-29T12:00:00Z"}
	created, err := tb.CreateAuthServer(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	got := getAS(t, tb, a)
	if !reflect.DeepEqual(got.Discovery, a.Discovery) || got.FederationClientID != "broker" || string(got.FederationSecret) != "\x01\x02\x03" || got.ProviderGroups[0] != "retail" {
		t.Errorf("got %+v", got)
	}
	next := created
	next.Discovery, next.FederationClientID, next.FederationSecret, next.ProviderGroups = Discovery{}, "", nil, nil
	if _, err := tb.UpdateAuthServer(context.Background(), created, next); err != nil {
		t.Fatal(err)
	}
	got = getAS(t, tb, a)
	if got.Discovery.Usable() || got.FederationClientID != "" || got.FederationSecret != nil || len(got.ProviderGroups) != 0 {
		t.Errorf("after clearing: got %+v", got)
	}
}
