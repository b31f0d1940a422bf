package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Request sends a request to the service under test with the bearer token
// ("" for none). body is sent as is when it is a string, else as JSON
// (nothing when nil); headers are name, value pairs, and Content-Type
// defaults to application/json when there is a body.
func (e *Env) Request(t testing.TB, token, method, path string, body any, headers ...string) Response {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatalf("encode body: %v", err)
		}
	}
	req, err := http.NewRequest(method, e.Server.URL+path, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.Do(t, req)
}

// TokenRequest asks the token endpoint for a token with id and secret (HTTP
// Basic) and the given form parameters added, and returns the response
// whatever it is.
func (e *Env) TokenRequest(t testing.TB, id, secret string, extra url.Values) Response {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return e.Do(t, req)
}

// Problem is an RFC 9457 error body as tests read it.
type Problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// WantProblem checks that resp is a problem+json with status and code and,
// when fields is not nil, exactly those fields in errors[] (in any order),
// and returns it.
func WantProblem(t testing.TB, resp Response, status int, code string, fields ...string) Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		t.Fatalf("status %d, body %s: not a problem: %v", resp.StatusCode, resp.Body, err)
	}
	if resp.StatusCode != status || p.Code != code || p.Status != status {
		t.Fatalf("got %d %s, want %d %s: %s", resp.StatusCode, p.Code, status, code, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if fields != nil {
		var got []string
		for _, f := range p.Errors {
			got = append(got, f.Field)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(fields))
		if !slices.Equal(got, want) {
			t.Errorf("error fields %q, want %q: %s", got, want, resp.Body)
		}
	}
	return p
}

// ListAll walks every page of the list at path (a query string of its own
// filters allowed) with limit, fetching each page with get, and returns the
// items, failing the test on a page larger than limit, an item listed
// twice (by id) or a list that does not end.
func ListAll[T any](t testing.TB, get func(path string) Response, path string, limit int, id func(T) string) []T {
	t.Helper()
	base, query, _ := strings.Cut(path, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("list query %q: %v", query, err)
	}
	q.Set("limit", fmt.Sprint(limit))
	var all []T
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("list does not end")
		}
		resp := get(base + "?" + q.Encode())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list %s: %d %s", base, resp.StatusCode, resp.Body)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(resp.Body, &raw); err != nil || raw["items"] == nil || raw["next_cursor"] == nil {
			t.Fatalf("list body %s: want items and next_cursor (%v)", resp.Body, err)
		}
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			t.Fatalf("decode page: %v", err)
		}
		if len(page.Items) > limit {
			t.Fatalf("page of %d items, limit %d", len(page.Items), limit)
		}
		for _, item := range page.Items {
			if seen[id(item)] {
				t.Fatalf("%s listed twice", id(item))
			}
			seen[id(item)] = true
			all = append(all, item)
		}
		if page.NextCursor == nil {
			return all
		}
		q.Set("cursor", *page.NextCursor)
	}
}

// Race runs fns at once and returns their responses in order.
func Race(fns ...func() Response) []Response {
	out := make([]Response, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, f := range fns {
		wg.Go(func() {
			<-start
			out[i] = f()
		})
	}
	close(start)
	wg.Wait()
	return out
}

// EventsInteractionID is the x-fapi-interaction-id every sample API Gateway
// event of events/ carries.
const EventsInteractionID = "6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11"

// Events invokes the sample API Gateway events of one folder of events/ on
// a function's handler, and checks at the end that each was used.
type Events struct {
	dir  string
	fn   lambda.Handler
	used map[string]bool
}

// NewEvents returns the Events of dir for fn. Its test fails unless every
// event of dir was invoked by the time it ends.
func NewEvents(t testing.TB, dir string, fn lambda.Handler) *Events {
	ev := &Events{dir: dir, fn: fn, used: map[string]bool{}}
	t.Cleanup(func() {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) == 0 {
			t.Errorf("no sample events in %s", dir)
		}
		for _, f := range files {
			if !ev.used[filepath.Base(f)] {
				t.Errorf("event %s is not exercised by this test", f)
			}
		}
	})
	return ev
}

// Invoke reads the event file, which must be a real API Gateway REST proxy
// event (no member the SDK type lacks), fills its placeholders with fill,
// invokes the handler with it and checks the response's status and that it
// echoes EventsInteractionID. It returns the response's headers and JSON
// body (nil when empty).
func (ev *Events) Invoke(t testing.TB, file string, fill *strings.Replacer, status int) (http.Header, map[string]any) {
	t.Helper()
	resp := ev.InvokeResponse(t, file, fill, status)
	var body map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("%s: body %s: %v", file, resp.Body, err)
		}
	}
	return http.Header(resp.MultiValueHeaders), body
}

// InvokeResponse is Invoke for a response whose body is not JSON (e.g.
// CSV): it makes the same checks and returns the whole proxy response.
func (ev *Events) InvokeResponse(t testing.TB, file string, fill *strings.Replacer, status int) events.APIGatewayProxyResponse {
	t.Helper()
	ev.used[file] = true
	data, err := os.ReadFile(filepath.Join(ev.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in events.APIGatewayProxyRequest
	if err := dec.Decode(&in); err != nil || in.HTTPMethod == "" || in.RequestContext.Stage == "" {
		t.Fatalf("%s is not an API Gateway proxy event: %v", file, err)
	}
	out, err := ev.fn.Invoke(context.Background(), []byte(fill.Replace(string(data))))
	if err != nil {
		t.Fatalf("invoke %s: %v", file, err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s: response %s: %v", file, out, err)
	}
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d: %s", file, resp.StatusCode, status, resp.Body)
	}
	if got := http.Header(resp.MultiValueHeaders).Get("x-fapi-interaction-id"); got != EventsInteractionID {
		t.Errorf("%s: x-fapi-interaction-id %q, want the event's", file, got)
	}
	return resp
}
