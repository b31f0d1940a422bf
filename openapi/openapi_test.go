// The tests check that the file is valid and documents exactly the routes
// served.
package openapi_test

import (
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/partnerapi/partner-api/openapi"
	"github.com/partnerapi/partner-api/shared/app"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestEveryRouteDocumented compares the routes every endpoint group serves
// with the paths of the OpenAPI file, both ways.
func TestEveryRouteDocumented(t *testing.T) {
	doc := load(t)
	var served []string
	for _, g := range app.Routes() {
		served = append(served, g.Paths...)
	}
	for _, p := range served {
		if doc.Paths.Find(p) == nil {
			t.Errorf("route %s is served but not in openapi.yaml", p)
		}
	}
	for p := range doc.Paths.Map() {
		if !slices.Contains(served, p) {
			t.Errorf("openapi.yaml documents %s, which no group serves", p)
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
