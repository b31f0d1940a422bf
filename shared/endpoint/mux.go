package endpoint

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
)

// Operation serves one route. An error it returns is written by the
// group's error writer (problem+json or RFC 6749).
type Operation func(w http.ResponseWriter, r *http.Request) error

// Writes adapts a handler that writes its own answers, errors included
// (the OAuth endpoints, the hosted sign-in page), to an Operation.
func Writes(f http.HandlerFunc) Operation {
	return func(w http.ResponseWriter, r *http.Request) error {
		f(w, r)
		return nil
	}
}

// Operations are a group's operations by the name the registry gives them.
type Operations map[registry.Op]Operation

// ErrorWriter writes an error in a group's format.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Mux serves group g's routes with ops: each route's caller is checked
// against its Access and Scope, then its operation runs; a method a path
// does not serve gets 405 with Allow, a path the group does not serve 404,
// both written by writeError. Every route must have an operation and every
// operation a route.
//
// protect authenticates the bearer token (and meters the call) in front of
// what needs a caller: a path whose routes all need one is protected as a
// whole (so a wrong method with a valid token is answered, and counted, as
// the caller's), a path that also has public routes per route, and the 404
// of an unknown path when the group has no public route at all.
func Mux(g registry.Group, ops Operations, writeError ErrorWriter, protect func(http.Handler) http.Handler) (http.Handler, error) {
	byPath := map[string]*methods{}
	public := map[string]bool{}
	used := map[registry.Op]bool{}
	for _, rt := range g.Routes {
		if rt.Access == registry.Public {
			public[rt.Path] = true
		}
	}
	for _, rt := range g.Routes {
		op, ok := ops[rt.Op]
		if !ok {
			return nil, fmt.Errorf("group %s: route %s %s: no operation %q", g.Name, rt.Method, rt.Path, rt.Op)
		}
		used[rt.Op] = true
		if byPath[rt.Path] == nil {
			byPath[rt.Path] = &methods{ops: map[string]Operation{}, write: writeError}
		}
		op = authorised(rt, op)
		if rt.Access != registry.Public && public[rt.Path] {
			op = protected(op, protect, writeError)
		}
		byPath[rt.Path].ops[rt.Method] = op
	}
	for name := range ops {
		if !used[name] {
			return nil, fmt.Errorf("group %s: operation %q has no route", g.Name, name)
		}
	}
	mux := http.NewServeMux()
	for _, p := range g.Paths() {
		var h http.Handler = byPath[p]
		if !public[p] {
			h = protect(h)
		}
		mux.Handle(p, h)
	}
	var notFound http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, UnknownPath(r))
	})
	if len(public) == 0 {
		notFound = protect(notFound)
	}
	mux.Handle("/", notFound)
	return mux, nil
}

// protected runs op behind protect, for a bearer route on a path that also
// has public routes.
func protected(op Operation, protect func(http.Handler) http.Handler, writeError ErrorWriter) Operation {
	h := protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := op(w, r); err != nil {
			writeError(w, r, err)
		}
	}))
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}

// methods dispatches a path's requests by method.
type methods struct {
	ops   map[string]Operation
	write ErrorWriter
}

func (m *methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := m.ops[r.Method]
	if !ok {
		allow := strings.Join(slices.Sorted(maps.Keys(m.ops)), ", ")
		m.write(w, r, &problem.Detailed{
			Kind: problem.ErrMethodNotAllowed, Detail: "use " + allow, Header: http.Header{"Allow": {allow}},
		})
		return
	}
	if err := op(w, r); err != nil {
		m.write(w, r, err)
	}
}

// authorised runs op after checking the caller against rt's Access and
// Scope (the one place where routes' scopes are checked).
func authorised(rt registry.Route, op Operation) Operation {
	if rt.Access == registry.Public {
		return op
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := authorise(r, rt); err != nil {
			return err
		}
		return op(w, r)
	}
}

func authorise(r *http.Request, rt registry.Route) error {
	ctx := r.Context()
	c, err := Caller(ctx)
	if err != nil {
		return err
	}
	switch rt.Access {
	case registry.Partner:
		if !c.IsPartner() {
			return problem.New(problem.ErrForbidden, "%s", rt.NotForClients)
		}
		return auth.RequireScope(ctx, rt.Scope)
	case registry.PartnerOrManager:
		if c.IsPartner() {
			return auth.RequireScope(ctx, rt.Scope)
		}
		return auth.RequireScope(ctx, scope.ClientsManage)
	case registry.Client:
		if c.IsPartner() {
			return problem.New(problem.ErrForbidden, "%s", rt.NotForPartners)
		}
		return nil
	}
	return fmt.Errorf("route %s %s: unknown access %d", rt.Method, rt.Path, rt.Access)
}

// UnknownPath is the 404 of a path no route serves.
func UnknownPath(r *http.Request) error {
	return problem.New(problem.ErrNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
}
