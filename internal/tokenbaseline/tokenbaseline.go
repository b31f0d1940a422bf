// Package tokenbaseline is the floor of the token endpoint's CPU budget
// (issue 12): a minimal in-process ES384 token server, measured the same way
// as POST /v1/token by the tokenapi benchmark and by `make loadtest`.
package tokenbaseline

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// Server is the floor the token endpoint's CPU budget is measured
// against (issue 12): a minimal in-process ES384 token server. net/http, a
// map lookup of the client, a constant-time compare of the SHA-256 of the
// secret, claims like ours, an ES384 JWT signed in process. No storage, no
// metering, no logging.
type Server struct {
	clients map[string][32]byte
	key     *ecdsa.PrivateKey
	kid     string
}

// New returns a server knowing one client, id with secret.
func New(id, secret string) (*Server, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Server{clients: map[string][32]byte{id: sha256.Sum256([]byte(secret))}, key: key, kid: "baseline"}, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	want, known := s.clients[id]
	got := sha256.Sum256([]byte(secret))
	if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]string{"alg": "ES384", "kid": s.kid, "typ": "at+jwt"})
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://partner-api.test", "sub": id, "aud": "https://partner-api.test", "client_id": id,
		"iat": now, "nbf": now, "exp": now + 86400, "jti": uuid.NewString(), "scope": "organisations:read",
	})
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha512.Sum384([]byte(input))
	rr, ss, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	sig := make([]byte, 96)
	rr.FillBytes(sig[:48])
	ss.FillBytes(sig[48:])
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": input + "." + enc.EncodeToString(sig), "token_type": "Bearer", "expires_in": 86400,
	})
}
