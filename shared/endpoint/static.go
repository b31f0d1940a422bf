package endpoint

import (
	"net/http"
	"strconv"
	"time"
)

// Static serves body, a document that does not change while the function
// runs, with contentType and a public Cache-Control of maxAge.
func Static(body []byte, contentType string, maxAge time.Duration) Operation {
	cacheControl := "public, max-age=" + strconv.Itoa(int(maxAge/time.Second))
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", cacheControl)
		_, _ = w.Write(body)
		return nil
	}
}

// PathInserted serves op at a path-inserted well-known location (RFC 8414
// §3.1) whose {issuer_path} is issuerPath, the issuer URL's path
// (discovery.IssuerPath); any other {issuer_path}, or any at all when the
// issuer has no path, is an unknown path.
func PathInserted(issuerPath string, op Operation) Operation {
	return func(w http.ResponseWriter, r *http.Request) error {
		if issuerPath == "" || r.PathValue("issuer_path") != issuerPath {
			return UnknownPath(r)
		}
		return op(w, r)
	}
}
