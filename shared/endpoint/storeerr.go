package endpoint

import (
	"errors"
	"fmt"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

// StoreError is the fallback of each endpoint group's translation of the
// store's errors: it gives each store error its problem kind without a
// detail (ErrNotFound 404, ErrVersionMismatch 412, ErrConflict 409,
// ErrUnavailable 503) and keeps the store's error in the chain for the log.
// Other errors are returned as they are (a 500 whose cause is logged only).
// Groups translate the errors whose detail helps the caller first, with
// Translated.
func StoreError(err error) error {
	var kind error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrUnavailable):
		kind = problem.ErrUnavailable
	case errors.Is(err, store.ErrNotFound):
		kind = problem.ErrNotFound
	case errors.Is(err, store.ErrVersionMismatch):
		kind = problem.ErrPrecondition
	case errors.Is(err, store.ErrConflict):
		kind = problem.ErrConflict
	default:
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// Translated is cause, an error of the store, as an error of kind with a
// detail for the caller; cause stays in the chain for the log.
func Translated(cause, kind error, format string, args ...any) error {
	return fmt.Errorf("%w (%w)", problem.New(kind, format, args...), cause)
}
