package oautherr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestErrorIsByCode(t *testing.T) {
	cause := errors.New("jwt: signature mismatch")
	err := fmt.Errorf("verify: %w", InvalidToken("signature is invalid").WithCause(cause))
	tests := []struct {
		name   string
		target error
		want   bool
	}{
		{"same code, other description", InvalidToken(""), true},
		{"other code", InvalidClient(""), false},
		{"the hidden cause", cause, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(err, tc.target); got != tc.want {
				t.Errorf("errors.Is = %v, want %v", got, tc.want)
			}
		})
	}
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Code != CodeInvalidToken || e.Description != "signature is invalid" || e.Status() != http.StatusUnauthorized {
		t.Errorf("got %+v, want invalid_token, its description and 401", e)
	}
}

// TestDescriptionCharacters: error_description never carries '"', '\' or
// characters outside %x20-7E (RFC 6749 §5.2), whatever the caller sent.
func TestDescriptionCharacters(t *testing.T) {
	for in, want := range map[string]string{
		`parameter "scope" is repeated`: `parameter 'scope' is repeated`,
		`back\slash`:                    `back/slash`,
		"ctl\x00\n":                     "ctl??",
		"naïve…":                        "na?ve...",
		"plain text":                    "plain text",
	} {
		if got := InvalidRequest(in).Description; got != want {
			t.Errorf("Description(%q) = %q, want %q", in, got, want)
		}
	}
}
