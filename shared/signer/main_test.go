package signer_test

import (
	"testing"

	"github.com/partnerapi/partner-api/internal/testenv"
)

// TestMain gives the integration tests a KMS endpoint: moto, started here
// unless AWS_ENDPOINT_URL_KMS is set.
func TestMain(m *testing.M) {
	testenv.Main(m)
}
