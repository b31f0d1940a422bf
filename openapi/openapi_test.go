// The tests check that the file is valid and documents exactly the routes
// served.
package openapi_test

import (
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/partnerapi/partner-api/openapi"
	"github.com/partnerapi/partner-api/shared/app/registry"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestEveryRouteDocumented compares the registry's routes with the
// operations of the OpenAPI file, both ways: each route (method and path) is
// documented under the operationId the registry binds its handler to, and
// each documented operation is served. HEAD routes are GET's twins and need
// no operation of their own.
func TestEveryRouteDocumented(t *testing.T) {
	doc := load(t)
	served := map[string]registry.Op{}
	for _, g := range registry.Groups() {
		for _, r := range g.Routes {
			if r.Method == http.MethodHead {
				continue
			}
			served[r.Method+" "+r.Path] = r.Op
			item := doc.Paths.Find(r.Path)
			if item == nil {
				t.Errorf("route %s %s is served but not in openapi.yaml", r.Method, r.Path)
				continue
			}
			op := item.GetOperation(r.Method)
			switch {
			case op == nil:
				t.Errorf("route %s %s is served but not in openapi.yaml", r.Method, r.Path)
			case op.OperationID != string(r.Op):
				t.Errorf("%s %s: operationId %q, want the registry's %q", r.Method, r.Path, op.OperationID, r.Op)
			}
		}
	}
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if _, ok := served[method+" "+p]; !ok {
				t.Errorf("openapi.yaml documents %s %s, which no group serves", method, p)
			}
		}
	}
}

// TestEveryOperationDescribesErrors checks that each operation documents at
// least one 4xx response and each response has a description.
func TestEveryOperationDescribesErrors(t *testing.T) {
	doc := load(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			has4xx := false
			for code := range op.Responses.Map() {
				if code[0] == '4' {
					has4xx = true
				}
			}
			if !has4xx {
				t.Errorf("%s %s documents no 4xx response", method, path)
			}
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s has no operationId or summary", method, path)
			}
		}
	}
}
