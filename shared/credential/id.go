package credential

import (
	"regexp"

	"github.com/google/uuid"
)

// idPattern is the rule for client ids, which partners and organisation
// clients share: letters, digits and '-', 5 to 64 characters.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9-]{5,64}$`)

// IDRule describes ValidID for error messages.
const IDRule = "must be 5 to 64 letters, digits or '-'"

// ValidID reports whether id may be a client id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// NewID returns a new random client id (a UUID).
func NewID() string { return uuid.NewString() }
