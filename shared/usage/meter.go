package usage

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/store"
)

// MeterTimeout bounds one counter write. It is well above DynamoDB's
// single-digit-millisecond UpdateItem, so only a degraded table reaches it;
// the token endpoint then answers at most this much later, with its token.
const MeterTimeout = 500 * time.Millisecond

// FailedMessage is the log message (at Warn) of every count that could not
// be written; the stack's metric filter counts it.
const FailedMessage = "usage metering failed"

// Counter writes usage counters (satisfied by *store.Table). AddUsage adds
// n to e's counter on shard; an error means the count may not have been
// written.
type Counter interface {
	AddUsage(ctx context.Context, e store.UsageEvent, shard int, n int64) error
}

// Meter counts tokens issued and management API calls. It never fails the
// request it counts: a count that cannot be written within MeterTimeout is
// logged at Warn with FailedMessage and dropped.
type Meter struct {
	counter Counter
	logger  *slog.Logger
	now     func() time.Time
	shard   func() int
	timeout time.Duration
}

// NewMeter returns a Meter writing to c, dating counts with now and
// spreading them over the shards at random. Failures go to the request's
// logger, or to logger outside a request.
func NewMeter(c Counter, logger *slog.Logger, now func() time.Time) *Meter {
	return &Meter{counter: c, logger: logger, now: now, shard: func() int { return rand.IntN(store.UsageShards) }, timeout: MeterTimeout}
}

// WithTimeout returns a copy of m whose writes are bounded by d (tests).
func (m *Meter) WithTimeout(d time.Duration) *Meter {
	c := *m
	c.timeout = d
	return &c
}

// Token starts counting a token for the caller given, concurrently with
// the caller's own work (signing), and returns done, which must be called
// once whether the token was issued is known: it waits for the count (at
// most the timeout) and, when the token was not issued after all, takes the
// count back. done never fails.
func (m *Meter) Token(ctx context.Context, partnerID, organisationID, clientID string) (done func(issued bool)) {
	e, shard := m.event(store.UsageToken, partnerID, organisationID, clientID), m.shard()
	wrote := make(chan bool, 1)
	go func() { wrote <- m.add(ctx, e, shard, 1) }()
	return func(issued bool) {
		if ok := <-wrote; ok && !issued {
			m.add(ctx, e, shard, -1)
		}
	}
}

// SignIn counts one sign-in or code or refresh-token exchange for the
// client given, and waits for the count (at most the timeout). It never
// fails.
func (m *Meter) SignIn(ctx context.Context, partnerID, organisationID, clientID string) {
	m.add(ctx, m.event(store.UsageSignIn, partnerID, organisationID, clientID), m.shard(), 1)
}

// API wraps a management group's handler (behind auth.Require) so that
// each authenticated call is counted for its caller, whatever its status.
// The count is written alongside the handler and awaited before the
// response is returned: Lambda freezes the environment after that.
func (m *Meter) API(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := auth.FromContext(r.Context())
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		e, shard := m.event(store.UsageAPI, c.PartnerID, c.OrganisationID, c.ClientID), m.shard()
		wrote := make(chan bool, 1)
		go func() { wrote <- m.add(r.Context(), e, shard, 1) }()
		defer func() { <-wrote }()
		next.ServeHTTP(w, r)
	})
}

func (m *Meter) event(kind, partnerID, organisationID, clientID string) store.UsageEvent {
	return store.UsageEvent{
		PartnerID: partnerID, OrganisationID: organisationID, ClientID: clientID,
		Day: m.now().UTC().Format(time.DateOnly), Kind: kind,
	}
}

// add writes n to e's counter within the timeout, detached from the
// request's cancellation (a client hanging up does not undo what it used),
// and reports whether it did; a failure is logged.
func (m *Meter) add(ctx context.Context, e store.UsageEvent, shard int, n int64) bool {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timeout)
	defer cancel()
	err := m.counter.AddUsage(wctx, e, shard, n)
	if err == nil {
		return true
	}
	logging.FromContext(ctx, m.logger).WarnContext(ctx, FailedMessage,
		slog.String("kind", e.Kind), slog.String("partner_id", e.PartnerID), slog.String("client_id", e.ClientID),
		slog.Int64("n", n), slog.Any("err", err))
	return false
}
