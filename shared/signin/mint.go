package signin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
)

type minter struct{ Deps }

// mint issues tokens for a subject of the partner's client (seed 003):
// partner token with tokens:mint; another partner's client is 404; a
// disabled client (or organisation, or partner) is 409.
func (m *minter) mint(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := endpoint.Caller(ctx) // a partner with tokens:mint (the registry's route)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	cl, err := m.Store.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && cl.PartnerID != c.PartnerID {
		return problem.New(problem.ErrNotFound, "no client %q", truncate.String(id, 40))
	}
	if err != nil {
		return endpoint.StoreError(err)
	}
	body, err := jsonbody.Read(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	var in grants.MintInput
	if err := jsonbody.Unmarshal(body, &in, jsonbody.Options{}); err != nil {
		return err
	}
	v := &problem.ValidationError{}
	g := grants.CheckMint(v, in, cl.Principal, m.Now())
	if err := v.Err(); err != nil {
		return err
	}
	if err := m.usable(ctx, cl); err != nil {
		return err
	}
	done := func(bool) {}
	if m.Meter != nil {
		done = m.Meter.Token(ctx, cl.PartnerID, cl.OrganisationID, cl.ID)
	}
	resp, err := m.Grants.Mint(ctx, cl.Principal, g)
	done(err == nil)
	if err != nil {
		return endpoint.StoreError(err)
	}
	if err := m.Store.RecordMint(ctx, cl.PartnerID, cl.ID); err != nil {
		logging.FromContext(ctx, nil).ErrorContext(ctx, "audit mint", slog.Any("err", err))
	}
	jsonbody.Write(w, http.StatusOK, resp)
	return nil
}

func (m *minter) usable(ctx context.Context, cl store.Client) error {
	if !cl.Enabled {
		return problem.New(problem.ErrConflict, "the client is disabled")
	}
	active, err := m.Store.ClientChainActive(ctx, cl.PartnerID, cl.OrganisationID)
	if err != nil {
		return endpoint.StoreError(err)
	}
	if !active {
		return problem.New(problem.ErrConflict, "the client's organisation or partner account is disabled")
	}
	return nil
}
