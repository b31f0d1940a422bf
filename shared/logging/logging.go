// Package logging builds the service's JSON slog logger and carries the
// per-request logger (with the interaction id) in a context.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// The members every line of the Lambda logger has at its top level (with
// the function's log format JSON). lambdacontext renames slog's "msg" and
// "time"; "level" is slog's. The stack's CloudWatch metric filters name
// these members, and the infra tests match the filters against lines the
// Lambda logger really writes.
const (
	LambdaMessageKey   = "message"
	LambdaLevelKey     = slog.LevelKey
	LambdaTimeKey      = "timestamp"
	LambdaRequestIDKey = "requestId"
)

type ctxKey struct{}

// New returns a JSON logger writing to w at level.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Lambda returns the logger for a Lambda function: lambdacontext's handler,
// which writes JSON lines to stdout when the function's log format is JSON
// (AWS_LAMBDA_LOG_FORMAT), with the Lambda request id, and drops records
// below Lambda's application log level (AWS_LAMBDA_LOG_LEVEL); and on top
// of it level, the service's LOG_LEVEL (config.Config.LogLevel). The stack
// sets both from the same context value; when they differ the stricter
// wins, as Lambda itself also filters JSON lines by its level.
func Lambda(level slog.Leveler) *slog.Logger {
	return slog.New(&minLevel{min: level, next: lambdacontext.NewLogHandler()})
}

// minLevel passes on the records at or above min that next also accepts.
type minLevel struct {
	min  slog.Leveler
	next slog.Handler
}

func (h *minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min.Level() && h.next.Enabled(ctx, l)
}

func (h *minLevel) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h *minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &minLevel{min: h.min, next: h.next.WithAttrs(attrs)}
}

func (h *minLevel) WithGroup(name string) slog.Handler {
	return &minLevel{min: h.min, next: h.next.WithGroup(name)}
}

// WithLogger returns ctx carrying l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the request's logger, or fallback when none is set
// (fallback may be nil, then a discarding logger is returned).
func FromContext(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	if fallback != nil {
		return fallback
	}
	return slog.New(slog.DiscardHandler)
}
