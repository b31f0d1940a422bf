package endpoint

import (
	"time"

	"github.com/partnerapi/partner-api/shared/cursor"
)

// Service is what every management group's service is built from: its
// store (S, the narrow interface the group defines), the codec that seals
// its lists' cursors, the clock and the generator of new resource ids.
type Service[S any] struct {
	Store   S
	Cursors *cursor.Codec
	Now     func() time.Time
	NewID   func() string
}
