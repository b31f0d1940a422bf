package tokenapi_test

import (
	"testing"

	"github.com/partnerapi/partner-api/shared/apptest"
)

func TestSmoke(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, sec := e.Partner(t)
	tok := e.Token(t, id, sec, nil)
	if tok == "" {
		t.Fatal("no token")
	}
}
