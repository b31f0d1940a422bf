package signer_test

import (
	"errors"
	"testing"

	"github.com/partnerapi/partner-api/shared/signer"
)

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in      string
		want    signer.Algorithm
		wantErr bool
	}{
		{in: "PS256", want: signer.PS256},
		{in: "ES384", want: signer.ES384},
		{in: "ES512", want: signer.ES512},
		{in: "es384", wantErr: true},
		{in: "ES384 ", wantErr: true},
		{in: "RS256", wantErr: true},
		{in: "ES256", wantErr: true},
		{in: "none", wantErr: true},
		{in: "", wantErr: true}, // runs as "#00"
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := signer.ParseAlgorithm(tc.in)
			if tc.wantErr {
				if !errors.Is(err, signer.ErrUnknownAlgorithm) {
					t.Fatalf("ParseAlgorithm(%q) error = %v, want ErrUnknownAlgorithm", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAlgorithm(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseAlgorithm(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
