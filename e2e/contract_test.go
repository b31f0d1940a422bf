package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/partnerapi/partner-api/openapi"
)

// contractRouter finds the operation of a request in openapi.yaml. It is
// built without the file's servers: contract strips the base URL of the API
// under test itself, so a deployment's stage prefix (…/prod) and a loopback
// port route alike.
var contractRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi.Load(context.Background())
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// contract is an http.RoundTripper that checks every response against the
// operation openapi.yaml documents for its request, with kin-openapi's
// openapi3filter: the status must be documented, and the headers and body
// must match its schema. A mismatch is returned as the request's error, so
// the test that sent it fails.
type contract struct {
	next     http.RoundTripper
	basePath string // the path of the base URL, e.g. "/prod"; "" in process
}

func newContract(base string, next http.RoundTripper) (*contract, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", base, err)
	}
	if _, err := contractRouter(); err != nil {
		return nil, err
	}
	return &contract{next: next, basePath: strings.TrimSuffix(u.Path, "/")}, nil
}

func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := c.check(req, resp, body); err != nil {
		return nil, fmt.Errorf("response does not match openapi.yaml: %w\n%d %s", err, resp.StatusCode, body)
	}
	return resp, nil
}

func (c *contract) check(req *http.Request, resp *http.Response, body []byte) error {
	router, _ := contractRouter()
	routed := req.Clone(req.Context())
	if !strings.HasPrefix(req.URL.Path, c.basePath) {
		return fmt.Errorf("%s is outside the base path %q", req.URL.Path, c.basePath)
	}
	routed.URL.Path = strings.TrimPrefix(req.URL.Path, c.basePath)
	routed.URL.RawPath = ""
	route, params, err := router.FindRoute(routed)
	if err != nil {
		return fmt.Errorf("%s %s: no documented operation: %w", req.Method, routed.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return fmt.Errorf("%s %s (%s): %w", req.Method, routed.URL.Path, route.Operation.OperationID, err)
	}
	return nil
}

// TestContractRefusesMismatches checks the checker: responses that break
// openapi.yaml fail the request, under a stage prefix too.
func TestContractRefusesMismatches(t *testing.T) {
	const id = "0b7e4a52-9f1c-4d3e-8a6b-2c5d7e9f1a3b"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-fapi-interaction-id", "9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("answer") {
		case "teapot":
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte(`{}`))
		case "wrong type":
			_, _ = w.Write([]byte(`{"id":5}`))
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"type":"https://partner-api.dev/problems/not_found","title":"Not Found","status":404,"code":"not_found","detail":"no organisation"}`))
		}
	}))
	defer srv.Close()
	tests := []struct {
		name, path string
		ok         bool
	}{
		{"documented 404", "/prod/v1/organisations/" + id, true},
		{"undocumented status", "/prod/v1/organisations/" + id + "?answer=teapot", false},
		{"body against the schema", "/prod/v1/organisations/" + id + "?answer=wrong%20type", false},
		{"undocumented path", "/prod/v1/nothing-here", false},
		{"outside the base path", "/v1/organisations/" + id, false},
	}
	c, err := newContract(srv.URL+"/prod", http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: c}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tc.path)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("got error %v, want ok %v", err, tc.ok)
			}
		})
	}
}
