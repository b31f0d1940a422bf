package app

import (
	"fmt"
	"net/http"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/discovery"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/ratelimit"
	"github.com/partnerapi/partner-api/shared/tokenapi"
)

// MaxJSONBodyBytes bounds management request bodies.
const MaxJSONBodyBytes = 128 << 10

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
	build, ok := a.Groups[name]
	if !ok {
		return nil, fmt.Errorf("endpoint group %q: no operations bound (app.Options.Groups)", name)
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
		problem.Write(w, r, endpoint.UnknownPath(r))
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
