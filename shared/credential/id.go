package credential

import "github.com/google/uuid"

// Client ids, which partners and organisation clients share: letters,
// digits and '-', MinIDLength to MaxIDLength characters.
const (
	MinIDLength = 5
	MaxIDLength = 64
)

// IDRule describes ValidID for error messages.
const IDRule = "must be 5 to 64 letters, digits or '-'"

// ValidID reports whether id may be a client id. (A loop rather than a
// regular expression: every function links this package, and compiling
// the pattern's bounded repetition cost ~2 ms of each cold start under
// emulation.)
func ValidID(id string) bool {
	if len(id) < MinIDLength || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
		default:
			return false
		}
	}
	return true
}

// NewID returns a new random client id (a UUID).
func NewID() string { return uuid.NewString() }
