// Package ratelimit bounds each partner's management writes per minute
// (OWASP API6, sensitive business flows: mass client creation, secret
// rotation loops). The count is shared by every function instance: one
// conditional DynamoDB counter per partner and minute, so concurrent
// requests never pass the limit. The default is far above what automation
// and the test suites do; a deployment may lower it or turn it off.
package ratelimit

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/problem"
)

// Window is the period a limit counts over.
const Window = time.Minute

// Counter counts a partner's writes in a window (satisfied by
// *store.Table): allowed is false once limit were counted. An error means
// the count is unknown.
type Counter interface {
	CountWrite(ctx context.Context, partnerID string, window, expires time.Time, limit int) (allowed bool, err error)
}

// UnavailableMessage is the log message of a count that failed; the write
// goes ahead (a counter outage must not stop partners' work).
const UnavailableMessage = "write rate limit unavailable"

// Writes refuses, with 429 and Retry-After, the POST, PUT, PATCH and
// DELETE requests of a partner (its own and its clients' calls together)
// beyond limit per Window; reads are not counted. limit 0 turns it off. It
// expects auth.Require in front of it.
func Writes(c Counter, limit int, now func() time.Time, next http.Handler) http.Handler {
	if limit <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := auth.FromContext(r.Context())
		if !ok || !write(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		t := now().UTC()
		window := t.Truncate(Window)
		allowed, err := c.CountWrite(r.Context(), caller.PartnerID, window, window.Add(2*Window), limit)
		if err != nil {
			logging.FromContext(r.Context(), nil).WarnContext(r.Context(), UnavailableMessage,
				slog.String("partner_id", caller.PartnerID), slog.Any("err", err))
		} else if !allowed {
			retry := int(window.Add(Window).Sub(t).Seconds()) + 1
			problem.Write(w, r, &problem.Detailed{
				Kind:   problem.ErrRateLimited,
				Detail: "more than " + strconv.Itoa(limit) + " management writes in a minute for this partner account; retry after the Retry-After seconds",
				Header: http.Header{"Retry-After": {strconv.Itoa(retry)}},
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func write(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}
