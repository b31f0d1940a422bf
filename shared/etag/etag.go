// Package etag derives entity tags from item versions and evaluates If-Match
// preconditions (RFC 9110 §8.8.3 and §13.1.1) for optimistic concurrency:
// a client sends the ETag it read as If-Match, and a write that would
// overwrite a newer version fails with 412.
package etag

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/partnerapi/partner-api/shared/problem"
)

// FromVersion returns the strong entity tag of an item version, e.g. "3"
// with its quotes.
func FromVersion(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// Set sets the ETag response header.
func Set(w http.ResponseWriter, tag string) {
	w.Header().Set("ETag", tag)
}

// Condition is a request's If-Match precondition. The zero Condition (no
// If-Match header) always holds.
type Condition struct {
	present bool
	any     bool
	tags    []string
}

// IfMatch reads the If-Match headers of r. A malformed header gives an error
// wrapping problem.ErrInvalid that names the field "If-Match".
func IfMatch(r *http.Request) (Condition, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return Condition{}, nil
	}
	c := Condition{present: true}
	for _, v := range values {
		if strings.TrimSpace(v) == "*" {
			c.any = true
			continue
		}
		tags, ok := parseList(v)
		if !ok {
			return Condition{}, problem.Invalid("If-Match", `must be "*" or a list of entity tags such as "3" (with the quotes), as sent in ETag`)
		}
		c.tags = append(c.tags, tags...)
	}
	return c, nil
}

// Present reports whether the request had an If-Match header.
func (c Condition) Present() bool { return c.present }

// Check returns an error wrapping problem.ErrPrecondition unless the
// condition holds for a resource whose current entity tag is current. Weak
// tags never match: If-Match uses the strong comparison.
func (c Condition) Check(current string) error {
	if !c.present || c.any || slices.Contains(c.tags, current) {
		return nil
	}
	return problem.New(problem.ErrPrecondition, "If-Match does not match the current ETag %s: the resource was changed since you read it", current)
}

// parseList splits a header value of entity tags (1#entity-tag) into the
// tags, weak ones with their W/ prefix. ok is false when it is malformed.
func parseList(v string) (tags []string, ok bool) {
	for _, part := range strings.Split(v, ",") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue // empty list elements are allowed (RFC 9110 §5.6.1)
		}
		opaque := strings.TrimPrefix(part, "W/")
		if len(opaque) < 2 || opaque[0] != '"' || opaque[len(opaque)-1] != '"' || !validTagChars(opaque[1:len(opaque)-1]) {
			return nil, false
		}
		tags = append(tags, part)
	}
	return tags, len(tags) > 0
}

// validTagChars reports whether s is *etagc: %x21 / %x23-7E / obs-text.
func validTagChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == '"' || c == 0x7F {
			return false
		}
	}
	return true
}
