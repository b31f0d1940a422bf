// Package logging builds the service's JSON slog logger and carries the
// per-request logger (with the interaction id) in a context.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

type ctxKey struct{}

// New returns a JSON logger writing to w at level.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// Lambda returns the logger for a Lambda function: JSON lines (with the
// function's log format set to JSON) carrying the Lambda request id.
func Lambda() *slog.Logger {
	return lambdacontext.NewLogger()
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
