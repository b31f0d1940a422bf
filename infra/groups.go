package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/partnerapi/partner-api/shared/app/registry"
)

// EndpointGroup is one Lambda function as the service's registry describes
// it: its routes, sizing, and the least it needs from the table and the
// signing keys (shared/app/registry, the table the local server's mux reads
// too).
type EndpointGroup = registry.Group

// KMSAccess is what a group may do with the signing keys.
type KMSAccess = registry.KMSAccess

// The KMS access levels (registry.KMSNone, ...).
const (
	KMSNone   = registry.KMSNone
	KMSVerify = registry.KMSVerify
	KMSSign   = registry.KMSSign
	KMSRotate = registry.KMSRotate
)

// Catalog is every endpoint group of the registry. Which of them a synth
// deploys is decided by DiscoverGroups: a group is deployed once
// functions/<name>/main.go exists.
//
// Why data-driven rather than all always: a group without code has no
// dist/<name>/bootstrap, so deploying it would either fail the asset step or
// need a placeholder function answering 5xx on routes that look live. Routes
// appear in API Gateway in the same change that brings their code, and the
// test TestCatalogCoversFunctions fails when a functions/ folder lands that
// the registry does not know, so a group cannot be forgotten silently.
var Catalog = registry.Groups()

// CatalogGroup returns the catalog entry called name.
func CatalogGroup(name string) (EndpointGroup, bool) {
	i := slices.IndexFunc(Catalog, func(g EndpointGroup) bool { return g.Name == name })
	if i < 0 {
		return EndpointGroup{}, false
	}
	return Catalog[i], true
}

// DiscoverGroups returns the names of the catalog groups that have code, a
// functions/<name>/main.go under functionsDir, in catalog order. A folder
// under functionsDir that the catalog does not know is an error: its routes
// and permissions must be added to Catalog first.
func DiscoverGroups(functionsDir string) ([]string, error) {
	entries, err := os.ReadDir(functionsDir)
	if err != nil {
		return nil, fmt.Errorf("discover endpoint groups: %w", err)
	}
	present := map[string]bool{}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(functionsDir, e.Name(), "main.go")); err != nil {
			continue
		}
		if _, ok := CatalogGroup(e.Name()); !ok {
			errs = append(errs, fmt.Errorf("functions/%s: not in the registry (shared/app/registry): add its routes and permissions", e.Name()))
			continue
		}
		present[e.Name()] = true
	}
	var names []string
	for _, g := range Catalog {
		if present[g.Name] {
			names = append(names, g.Name)
		}
	}
	if len(names) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("discover endpoint groups: no functions/<group>/main.go under %s", functionsDir))
	}
	return names, errors.Join(errs...)
}
