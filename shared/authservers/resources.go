package authservers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
	"github.com/partnerapi/partner-api/shared/validate"
)

// ResourceStore is the storage of an authorisation server's API resources
// and certifications (satisfied by *store.Table): store.ErrNotFound for a
// missing organisation, server or item, a *store.VersionError when the item
// is not at the expected version, store.ErrUnavailable when DynamoDB
// throttles.
type ResourceStore interface {
	GetAuthServer(ctx context.Context, partnerID, orgID, id string) (store.AuthServer, error)
	GetAPIResource(ctx context.Context, partnerID, orgID, asID, id string) (store.APIResource, error)
	ListAPIResources(ctx context.Context, partnerID, orgID, asID, after string, limit int) ([]store.APIResource, bool, error)
	CreateAPIResource(ctx context.Context, r store.APIResource) (store.APIResource, error)
	UpdateAPIResource(ctx context.Context, cur, next store.APIResource) (store.APIResource, error)
	DeleteAPIResource(ctx context.Context, r store.APIResource) error
	GetCertification(ctx context.Context, partnerID, orgID, asID, id string) (store.Certification, error)
	ListCertifications(ctx context.Context, partnerID, orgID, asID, after string, limit int) ([]store.Certification, bool, error)
	CreateCertification(ctx context.Context, c store.Certification) (store.Certification, error)
	UpdateCertification(ctx context.Context, cur, next store.Certification) (store.Certification, error)
	DeleteCertification(ctx context.Context, c store.Certification) error
}

var _ ResourceStore = (*store.Table)(nil)

// ResourceOperations are the operations of a server's API resources
// (/v1/organisations/{id}/authorisation-servers/{as_id}/api-resources) and
// certifications (.../certifications), by registry name: CRUD like the
// servers', each item inside its server (another partner's, organisation's
// or server's is 404), with ETags, If-Match, pagination and audit. A server
// with items cannot be deleted (409).
func ResourceOperations(s ResourceStore, cursors *cursor.Codec, now func() time.Time, newID func() string) endpoint.Operations {
	ops := endpoint.Operations{}
	apiResources := &kind[store.APIResource, APIResourceInput]{
		name: "API resource", list: "api-resources", param: "resource_id", store: s, cursors: cursors, now: now, newID: newID,
		id: func(r store.APIResource) string { return r.ID }, version: func(r store.APIResource) int64 { return r.Version },
		resolve: ResolveAPIResource, input: apiResourceInputOf, place: placeAPIResource, represent: apiResourceRepresentation,
		get: s.GetAPIResource, page: s.ListAPIResources, create: s.CreateAPIResource, update: s.UpdateAPIResource, del: s.DeleteAPIResource,
		opts: jsonbody.Options{ReadOnly: []string{"api_resource_id", "authorisation_server_id", "created_at", "updated_at"}},
	}
	certifications := &kind[store.Certification, CertificationInput]{
		name: "certification", list: "certifications", param: "certification_id", store: s, cursors: cursors, now: now, newID: newID,
		id: func(c store.Certification) string { return c.ID }, version: func(c store.Certification) int64 { return c.Version },
		resolve: ResolveCertification, input: certificationInputOf, place: placeCertification, represent: certificationRepresentation,
		get: s.GetCertification, page: s.ListCertifications, create: s.CreateCertification, update: s.UpdateCertification, del: s.DeleteCertification,
		opts: jsonbody.Options{ReadOnly: []string{"certification_id", "authorisation_server_id", "created_at", "updated_at"}},
	}
	apiResources.bind(ops, "APIResources", "APIResource")
	certifications.bind(ops, "AuthorisationServerCertifications", "AuthorisationServerCertification")
	return ops
}

// kind is the CRUD of one kind of item of a server: T stored, In its input.
type kind[T, In any] struct {
	name, list, param string
	store             ResourceStore
	cursors           *cursor.Codec
	now               func() time.Time
	newID             func() string
	id                func(T) string
	version           func(T) int64
	resolve           func(v *problem.ValidationError, in In) T
	input             func(T) In
	// place sets the ids, times and version of next, the item id of server
	// at now: created (cur nil) or an update of cur.
	place     func(next *T, server store.AuthServer, id string, now time.Time, cur *T)
	represent func(T) any
	get       func(ctx context.Context, partnerID, orgID, asID, id string) (T, error)
	page      func(ctx context.Context, partnerID, orgID, asID, after string, limit int) ([]T, bool, error)
	create    func(ctx context.Context, t T) (T, error)
	update    func(ctx context.Context, cur, next T) (T, error)
	del       func(ctx context.Context, t T) error
	opts      jsonbody.Options
}

// bind adds the kind's operations: list<plural>, create<one>, get<one>,
// replace<one>, patch<one>, delete<one>.
func (k *kind[T, In]) bind(ops endpoint.Operations, plural, one string) {
	ops[registry.Op("list"+plural)] = k.listOp
	ops[registry.Op("create"+one)] = k.createOp
	ops[registry.Op("get"+one)] = k.getOp
	ops[registry.Op("replace"+one)] = k.replaceOp
	ops[registry.Op("patch"+one)] = k.patchOp
	ops[registry.Op("delete"+one)] = k.deleteOp
}

// server returns the partner's server of r's path, or a 404 error.
func (k *kind[T, In]) server(ctx context.Context, partnerID string, r *http.Request) (store.AuthServer, error) {
	orgID, asID := r.PathValue("id"), r.PathValue("as_id")
	org, okOrg := validate.CanonicalUUID(orgID)
	sid, okID := validate.CanonicalUUID(asID)
	if !okOrg || !okID {
		return store.AuthServer{}, notFound(orgID, asID)
	}
	a, err := k.store.GetAuthServer(ctx, partnerID, org, sid)
	if errors.Is(err, store.ErrNotFound) {
		return store.AuthServer{}, notFound(orgID, asID)
	}
	return a, storeError(err)
}

// item returns the item of r's path, after checking the request's
// condition against it.
func (k *kind[T, In]) item(ctx context.Context, partnerID string, r *http.Request, cond etag.Condition) (store.AuthServer, T, error) {
	var zero T
	a, err := k.server(ctx, partnerID, r)
	if err != nil {
		return a, zero, err
	}
	raw := r.PathValue(k.param)
	id, ok := validate.CanonicalUUID(raw)
	if !ok {
		return a, zero, k.notFound(raw, a.ID)
	}
	t, err := k.get(ctx, partnerID, a.OrganisationID, a.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, zero, k.notFound(raw, a.ID)
	}
	if err != nil {
		return a, zero, storeError(err)
	}
	return a, t, cond.Check(etag.FromVersion(k.version(t)))
}

func (k *kind[T, In]) notFound(id, asID string) error {
	return problem.New(problem.ErrNotFound, "no %s %q in authorisation server %q", k.name, truncate.String(id, 64), asID)
}

func (k *kind[T, In]) write(w http.ResponseWriter, status int, t T) {
	etag.Set(w, etag.FromVersion(k.version(t)))
	jsonbody.Write(w, status, k.represent(t))
}

func (k *kind[T, In]) listOp(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return err
	}
	paging, err := endpoint.PagingOnly(r.URL.Query())
	if err != nil {
		return err
	}
	a, err := k.server(r.Context(), c.PartnerID, r)
	if err != nil {
		return err
	}
	b := cursor.Binding{PartnerID: c.PartnerID, List: k.list, Filter: "authorisation_server_id=" + a.ID}
	page, err := endpoint.ListPage(k.cursors, b, paging, k.id, func(after string, limit int) ([]T, bool, error) {
		list, more, err := k.page(r.Context(), c.PartnerID, a.OrganisationID, a.ID, after, limit)
		return list, more, storeError(err)
	})
	if err != nil {
		return err
	}
	endpoint.WriteList(w, page, k.represent)
	return nil
}

func (k *kind[T, In]) createOp(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := k.server(ctx, req.PartnerID, r)
	if err != nil {
		return err
	}
	v := &problem.ValidationError{}
	var in In
	if err := validate.Decode(v, req.Body, &in, k.opts); err != nil {
		return err
	}
	decoded := len(v.Errors)
	next := k.resolve(v, in)
	if err := validate.Settled(v, decoded); err != nil {
		return err
	}
	k.place(&next, a, k.newID(), k.now().UTC(), nil)
	created, err := k.create(ctx, next)
	if err != nil {
		return storeError(err)
	}
	endpoint.SetLocation(w, r, r.URL.Path+"/"+k.id(created))
	k.write(w, http.StatusCreated, created)
	return nil
}

func (k *kind[T, In]) getOp(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return err
	}
	_, t, err := k.item(r.Context(), c.PartnerID, r, etag.Condition{})
	if err != nil {
		return err
	}
	k.write(w, http.StatusOK, t)
	return nil
}

func (k *kind[T, In]) replaceOp(w http.ResponseWriter, r *http.Request) error {
	return k.updateOp(w, r, false)
}

func (k *kind[T, In]) patchOp(w http.ResponseWriter, r *http.Request) error {
	return k.updateOp(w, r, true)
}

// updateOp is PUT (the body is the whole input) or PATCH (a merge patch of
// the current input).
func (k *kind[T, In]) updateOp(w http.ResponseWriter, r *http.Request, patch bool) error {
	types := []string{jsonbody.MediaType}
	if patch {
		types = []string{jsonbody.MergePatchMediaType, jsonbody.MediaType}
	}
	req, err := endpoint.ReadPartnerWrite(r, types...)
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, cur, err := k.item(ctx, req.PartnerID, r, req.Cond)
	if err != nil {
		return err
	}
	v := &problem.ValidationError{}
	var in In
	if patch {
		err = validate.Patch(v, k.input(cur), req.Body, &in, k.opts)
	} else {
		err = validate.Decode(v, req.Body, &in, k.opts)
	}
	if err != nil {
		return err
	}
	decoded := len(v.Errors)
	next := k.resolve(v, in)
	if err := validate.Settled(v, decoded); err != nil {
		return err
	}
	k.place(&next, a, k.id(cur), k.now().UTC(), &cur)
	updated, err := k.update(ctx, cur, next)
	if err != nil {
		return endpoint.Raced(storeError(err), req.Cond)
	}
	k.write(w, http.StatusOK, updated)
	return nil
}

func (k *kind[T, In]) deleteOp(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r)
	if err != nil {
		return err
	}
	_, cur, err := k.item(r.Context(), req.PartnerID, r, req.Cond)
	if err != nil {
		return err
	}
	if err := k.del(r.Context(), cur); err != nil {
		return endpoint.Raced(storeError(err), req.Cond)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
