// Package usage is the usage and billing group: the Meter that counts every
// token issued and every authenticated management API call per partner,
// organisation, client, UTC day and kind, and GET /v1/usage, which reports
// a partner's counts for a date range with a breakdown.
package usage

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// MaxDays bounds the date range of one report (a leap year).
const MaxDays = 366

// Breakdowns of a report (the group_by parameter).
const (
	ByOrganisation = "organisation"
	ByClient       = "client"
	ByDay          = "day"
)

// DefaultGroupBy is the breakdown when group_by is left out.
const DefaultGroupBy = ByOrganisation

var groupBys = []string{ByOrganisation, ByClient, ByDay}

// Query is a validated report request.
type Query struct {
	From, To string // YYYY-MM-DD, From <= To
	GroupBy  string
}

// ParseQuery checks the query parameters of a report, returning every
// violation at once, each naming its parameter.
func ParseQuery(q url.Values) (Query, error) {
	v := &problem.ValidationError{}
	known := []string{"from", "to", "group_by"}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(known, k):
			v.Add(truncate.String(k, 64), "is not a query parameter of this report (use %s)", strings.Join(known, ", "))
		case len(q[k]) > 1:
			v.Add(k, "is given more than once")
		}
	}
	from, fromOK := date(v, q, "from")
	to, toOK := date(v, q, "to")
	if fromOK && toOK {
		switch {
		case to.Before(from):
			v.Add("to", "must not be before from")
		case to.Sub(from) >= MaxDays*24*time.Hour:
			v.Add("to", "must be at most %d days after from (the range covers at most %d days)", MaxDays-1, MaxDays)
		}
	}
	g := DefaultGroupBy
	if q.Has("group_by") {
		g = q.Get("group_by")
		if !slices.Contains(groupBys, g) {
			v.Add("group_by", "must be one of %s", strings.Join(groupBys, ", "))
		}
	}
	if err := v.Err(); err != nil {
		return Query{}, err
	}
	return Query{From: q.Get("from"), To: q.Get("to"), GroupBy: g}, nil
}

// date reads the required date parameter name (YYYY-MM-DD).
func date(v *problem.ValidationError, q url.Values, name string) (time.Time, bool) {
	s := q.Get(name)
	if s == "" {
		v.Add(name, "is required (a date, YYYY-MM-DD)")
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Format(time.DateOnly) != s {
		v.Add(name, "must be a date, YYYY-MM-DD")
		return time.Time{}, false
	}
	return d, true
}

// Reader reads usage counters (satisfied by *store.Table). Usage returns
// partnerID's counters of the days from to to, inclusive, once per shard
// written; an error wraps store.ErrUnavailable when DynamoDB throttles.
type Reader interface {
	Usage(ctx context.Context, partnerID, from, to string) ([]store.UsageCount, error)
}

// Counts are the counts of each kind.
type Counts struct {
	Token int64
	API   int64
	// SignIn counts sign-ins and code and refresh-token exchanges.
	SignIn int64
}

func (c *Counts) add(kind string, n int64) {
	switch kind {
	case store.UsageToken:
		c.Token += n
	case store.UsageAPI:
		c.API += n
	case store.UsageSignIn:
		c.SignIn += n
	}
}

// Row is one line of a report's breakdown. Key is the organisation id ("" for
// the partner's own usage), the client id or the day, as GroupBy says.
type Row struct {
	Key string
	Counts
}

// Report is a partner's usage over a date range.
type Report struct {
	Query
	Totals Counts
	// Rows are sorted by Key; keys without usage are left out.
	Rows []Row
}

// Service builds reports.
type Service struct {
	reader Reader
}

// NewService returns the Service reading counters from r.
func NewService(r Reader) *Service { return &Service{reader: r} }

// Report sums partnerID's counters of q's range by q.GroupBy.
func (s *Service) Report(ctx context.Context, partnerID string, q Query) (Report, error) {
	counts, err := s.reader.Usage(ctx, partnerID, q.From, q.To)
	if err != nil {
		return Report{}, fmt.Errorf("usage report: %w", endpoint.StoreError(err))
	}
	rep := Report{Query: q, Rows: []Row{}}
	rows := map[string]*Counts{}
	for _, c := range counts {
		if c.PartnerID != partnerID {
			continue // never another partner's, whatever the keys
		}
		rep.Totals.add(c.Kind, c.Count)
		key := c.Day
		switch q.GroupBy {
		case ByOrganisation:
			key = c.OrganisationID
		case ByClient:
			key = c.ClientID
		}
		if rows[key] == nil {
			rows[key] = &Counts{}
		}
		rows[key].add(c.Kind, c.Count)
	}
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		rep.Rows = append(rep.Rows, Row{Key: k, Counts: *rows[k]})
	}
	slices.SortFunc(rep.Rows, func(a, b Row) int { return cmp.Compare(a.Key, b.Key) })
	return rep, nil
}
