// Package clientid holds the rule for client ids, which partners and
// organisation clients share: letters, digits and '-', 5 to 64 characters.
package clientid

import (
	"regexp"

	"github.com/google/uuid"
)

var pattern = regexp.MustCompile(`^[A-Za-z0-9-]{5,64}$`)

// Rule describes Valid for error messages.
const Rule = "must be 5 to 64 letters, digits or '-'"

// Valid reports whether id may be a client id.
func Valid(id string) bool { return pattern.MatchString(id) }

// Generate returns a new random client id (a UUID).
func Generate() string { return uuid.NewString() }
