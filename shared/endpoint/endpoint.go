// Package endpoint holds what the handlers of every management endpoint
// group share: dispatch by method, the caller checks, reading the If-Match
// header and JSON body of a write, reading a list's paging parameters, and
// the answer to a write that lost a race.
package endpoint

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// Caller returns the request's caller; outside auth.Require, a 401 error.
func Caller(ctx context.Context) (auth.Caller, error) {
	c, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Caller{}, problem.New(problem.ErrUnauthenticated, "authentication required")
	}
	return c, nil
}

// Write is what a write request brings besides its caller: its If-Match
// condition and its body.
type Write struct {
	Cond etag.Condition
	Body []byte
}

// ReadWrite reads the If-Match header of r and, when mediaTypes are given,
// the JSON body, which must be sent as one of them (jsonbody.Read).
func ReadWrite(r *http.Request, mediaTypes ...string) (Write, error) {
	var req Write
	var err error
	if req.Cond, err = etag.IfMatch(r); err != nil {
		return Write{}, err
	}
	if len(mediaTypes) > 0 {
		if req.Body, err = jsonbody.Read(r, mediaTypes...); err != nil {
			return Write{}, err
		}
	}
	return req, nil
}

// PartnerWrite is a partner's write request: who, If-Match and body.
type PartnerWrite struct {
	PartnerID string
	Write
}

// ReadPartnerWrite reads a partner's write request (ReadWrite); the
// registry's route has checked that the caller is a partner with the scope.
func ReadPartnerWrite(r *http.Request, mediaTypes ...string) (PartnerWrite, error) {
	c, err := Caller(r.Context())
	if err != nil {
		return PartnerWrite{}, err
	}
	w, err := ReadWrite(r, mediaTypes...)
	if err != nil {
		return PartnerWrite{}, err
	}
	return PartnerWrite{PartnerID: c.PartnerID, Write: w}, nil
}

// ReadOptionalWrite is ReadWrite for an endpoint whose body may be left
// out: a request without one (Content-Length 0) gives a nil Body.
func ReadOptionalWrite(r *http.Request, mediaTypes ...string) (Write, error) {
	if r.ContentLength == 0 {
		return ReadWrite(r)
	}
	return ReadWrite(r, mediaTypes...)
}

// Paging is the position a list request asks for.
type Paging struct {
	// Limit is the page size (1 to cursor.MaxLimit).
	Limit int
	// Cursor is the next_cursor of the previous page, "" for the first.
	Cursor string
}

// ListParams reads the paging parameters of a list (limit, cursor) and
// checks that q has no parameter but those and extra, none repeated. Every
// violation is added to v.
func ListParams(v *problem.ValidationError, q url.Values, extra ...string) Paging {
	known := append([]string{"limit", "cursor"}, extra...)
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(known, k):
			v.Add(truncate.String(k, 64), "is not a query parameter of this list (use %s)", strings.Join(known, ", "))
		case len(q[k]) > 1:
			v.Add(k, "is given more than once")
		}
	}
	limit, err := cursor.ParseLimit(q.Get("limit"))
	var fe *problem.ValidationError
	if errors.As(err, &fe) {
		v.Merge(fe)
	}
	return Paging{Limit: limit, Cursor: q.Get("cursor")}
}

// PagingOnly reads the paging parameters of a list that takes no others
// (ListParams): a *problem.ValidationError names every violation.
func PagingOnly(q url.Values) (Paging, error) {
	v := &problem.ValidationError{}
	p := ListParams(v, q)
	return p, v.Err()
}

// List is one page of a list.
type List[T any] struct {
	Items []T
	// NextCursor is "" on the last page.
	NextCursor string
}

// ListPage reads the page p asks for of the list bound to b: it opens the
// cursor (a field error naming "cursor" when it was not sealed for b), calls
// read with the position to start after ("" for the first page) and, when
// more follow, seals the id of the page's last item as the next cursor.
func ListPage[T any](codec *cursor.Codec, b cursor.Binding, p Paging, id func(T) string, read func(after string, limit int) ([]T, bool, error)) (List[T], error) {
	var after string
	if p.Cursor != "" {
		var err error
		if after, err = codec.Open(b, p.Cursor); err != nil {
			return List[T]{}, err
		}
	}
	items, more, err := read(after, p.Limit)
	if err != nil {
		return List[T]{}, err
	}
	page := List[T]{Items: items}
	if more && len(items) > 0 {
		page.NextCursor = codec.Seal(b, id(items[len(items)-1]))
	}
	return page, nil
}

// WriteList sends a page of a list as {"items": [...], "next_cursor":
// "<opaque>" | null}, each item of page in its representation.
func WriteList[T, R any](w http.ResponseWriter, page List[T], representation func(T) R) {
	body := struct {
		Items      []R     `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}{Items: make([]R, len(page.Items))}
	for i, item := range page.Items {
		body.Items[i] = representation(item)
	}
	if page.NextCursor != "" {
		body.NextCursor = &page.NextCursor
	}
	jsonbody.Write(w, http.StatusOK, body)
}

// Raced turns a version mismatch found at write time into 409 when the
// request had no If-Match: the caller did not ask for a precondition, it
// lost a race with another write and may retry.
func Raced(err error, cond etag.Condition) error {
	if errors.Is(err, problem.ErrPrecondition) && !cond.Present() {
		return problem.New(problem.ErrConflict, "the resource was changed by another request while this one ran; retry")
	}
	return err
}

type basePathKey struct{}

// WithBasePath serves h with base (the path of the issuer URL: "/dev" on an
// API Gateway stage URL, "" behind a custom domain) known to Location.
func WithBasePath(base string, h http.Handler) http.Handler {
	base = strings.TrimSuffix(base, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), basePathKey{}, base)))
	})
}

// SetLocation sets the Location header of a created resource to path (an
// API path, "/v1/...") under the issuer's base path, so that it resolves
// within the stage on an execute-api URL (a root-relative "/v1/..." would
// leave it).
func SetLocation(w http.ResponseWriter, r *http.Request, path string) {
	base, _ := r.Context().Value(basePathKey{}).(string)
	w.Header().Set("Location", base+path)
}
