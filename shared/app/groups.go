package app

import (
	"fmt"
	"maps"
	"net/http"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/audit"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/authservers"
	"github.com/partnerapi/partner-api/shared/clients"
	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/discovery"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/organisations"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/ratelimit"
	"github.com/partnerapi/partner-api/shared/signin"
	"github.com/partnerapi/partner-api/shared/tokenapi"
	"github.com/partnerapi/partner-api/shared/usage"
)

// MaxJSONBodyBytes bounds management request bodies.
const MaxJSONBodyBytes = 128 << 10

// operations binds each endpoint group of the registry to the constructor
// of its operations: the one line a new group adds here.
var operations = map[string]func(*App) (endpoint.Operations, error){
	"token": func(a *App) (endpoint.Operations, error) {
		g := a.grants()
		return tokenapi.Operations(tokenapi.Deps{
			Principals: a.Store, Revoker: a.Store, Keys: a.Signer, Meter: a.Meter,
			Issuer: a.Issuer, Verifier: a.Verifier,
			IssuerURL: a.Config.IssuerURL, PartnerAlgorithm: a.Config.PartnerAlgorithm, Now: a.Now,
			Grants: g, Refresh: g,
			JWKSMaxAge: JWKSMaxAge(a.Config),
		})
	},
	"signin": func(a *App) (endpoint.Operations, error) {
		return signin.Operations(signin.Deps{
			Store: a.Store, Grants: a.grants(), Verifier: a.Verifier, Meter: a.Meter,
			Providers: []signin.IdentityProvider{signin.Sandbox{}, &signin.Upstream{
				Store: a.Store, RP: a.RP, Secrets: a.secretOpener(), Now: a.Now,
			}},
			IssuerURL: a.Config.IssuerURL, Algorithms: a.Signer.Algorithms(), SealKey: a.Config.CursorKey, Now: a.Now,
		})
	},
	"organisations": func(a *App) (endpoint.Operations, error) {
		c, err := cursor.New(a.Config.CursorKey)
		return organisations.Operations(organisations.NewService(a.Store, c, a.Now, uuid.NewString)), err
	},
	"clients": func(a *App) (endpoint.Operations, error) {
		c, err := cursor.New(a.Config.CursorKey)
		return clients.Operations(clients.NewService(a.Store, c, a.Now, credential.NewID)), err
	},
	"authservers": func(a *App) (endpoint.Operations, error) {
		c, err := cursor.New(a.Config.CursorKey)
		svc := authservers.NewService(a.Store, c, a.Now, uuid.NewString)
		svc.Discoverer = a.Fetcher
		if a.Secrets != nil {
			svc.Sealer = a.Secrets
		}
		ops := authservers.Operations(svc)
		for op, f := range authservers.ResourceOperations(a.Store, c, a.Now, uuid.NewString) {
			ops[op] = f
		}
		return ops, err
	},
	"usage": func(a *App) (endpoint.Operations, error) {
		c, err := cursor.New(a.Config.CursorKey)
		ops := usage.Operations(usage.NewService(a.Store))
		maps.Copy(ops, audit.Operations(a.Store, c))
		return ops, err
	},
}

// secretOpener is a.Secrets as the sign-in group takes it (nil when the App
// has no KMS client).
func (a *App) secretOpener() signin.SecretOpener {
	if a.Secrets == nil {
		return nil
	}
	return a.Secrets
}

// Handler builds the endpoint group called name, as its Lambda function and
// the local server serve it: its routes (registry.Groups) dispatched to its
// operations, each caller checked against its route's access and scope,
// inside the common middleware; routes that need a caller authenticate the
// bearer token first, and a metered group counts each authenticated call
// and bounds each partner's writes per minute.
func (a *App) Handler(name string) (http.Handler, error) {
	g, ok := registry.Lookup(name)
	if !ok || !g.HTTP() {
		return nil, fmt.Errorf("endpoint group %q: no routes in the registry", name)
	}
	build, ok := operations[name]
	if !ok {
		return nil, fmt.Errorf("endpoint group %q: no operations bound in shared/app", name)
	}
	ops, err := build(a)
	if err != nil {
		return nil, fmt.Errorf("endpoint group %s: %w", name, err)
	}
	opts := middleware.Options{Logger: a.Logger, MaxBodyBytes: MaxJSONBodyBytes, WriteError: problem.Write}
	if g.Errors == registry.OAuth {
		opts.MaxBodyBytes, opts.WriteError = tokenapi.MaxBodyBytes, tokenapi.WriteError
	}
	if g.MaxBodyBytes > 0 {
		opts.MaxBodyBytes = g.MaxBodyBytes
	}
	protect := func(h http.Handler) http.Handler {
		if g.Metered {
			h = a.Meter.API(ratelimit.Writes(a.Store, a.Config.WritesPerMinute, a.Now, h))
		}
		return auth.Require(a.Verifier, withOrigin(h))
	}
	h, err := endpoint.Mux(g, ops, endpoint.ErrorWriter(opts.WriteError), protect)
	if err != nil {
		return nil, err
	}
	return middleware.Wrap(endpoint.WithBasePath(basePath(a.Config.IssuerURL), h), opts), nil
}

// Mux mounts every group on one mux with the routes API Gateway has, for the
// local server and end-to-end tests. Unknown paths get a 404 problem.
func (a *App) Mux() (http.Handler, error) {
	mux := http.NewServeMux()
	for _, g := range registry.Groups() {
		if !g.HTTP() {
			continue
		}
		h, err := a.Handler(g.Name)
		if err != nil {
			return nil, err
		}
		for _, p := range g.Paths() {
			mux.Handle(p, h)
		}
	}
	mux.Handle("/", middleware.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(problem.ErrNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}), middleware.Options{Logger: a.Logger, MaxBodyBytes: MaxJSONBodyBytes, WriteError: problem.Write}))
	return mux, nil
}

// basePath is the path of the issuer URL ("/dev" for an API Gateway stage
// URL, "" for none): the base of the Location of created resources.
func basePath(issuer string) string {
	if p := discovery.IssuerPath(issuer); p != "" {
		return "/" + p
	}
	return ""
}
