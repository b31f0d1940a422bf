package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// hydraClientID is the OAuth client the hydra-token scenario creates.
const hydraClientID = "loadtest-hydra-client"

// hydra is a running Ory Hydra (`hydra serve all --dev`) with in-memory
// SQLite: its process and the base URLs of its public and admin ports.
type hydra struct {
	cmd           *exec.Cmd
	public, admin string
	log           *os.File // Hydra's output: it logs every request
}

// startHydra runs bin on two free loopback ports with Hydra's defaults
// (opaque access tokens, PBKDF2 client secret hashes, request logging) and
// DSN=memory, pinned to cpus when not empty, and waits until its admin port
// reports ready. Settings from the environment that are not set here (for
// example STRATEGIES_ACCESS_TOKEN=jwt) reach it unchanged. Telemetry is off.
func startHydra(ctx context.Context, cpus, bin string) (*hydra, error) {
	public, err := freePort()
	if err != nil {
		return nil, err
	}
	admin, err := freePort()
	if err != nil {
		return nil, err
	}
	h := &hydra{
		cmd:    command(ctx, cpus, bin, "serve", "all", "--dev", "--sqa-opt-out"),
		public: "http://127.0.0.1:" + strconv.Itoa(public),
		admin:  "http://127.0.0.1:" + strconv.Itoa(admin),
	}
	h.cmd.Env = append(os.Environ(),
		"DSN=memory",
		"SECRETS_SYSTEM="+randomHex(),
		"URLS_SELF_ISSUER="+h.public,
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+strconv.Itoa(public),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+strconv.Itoa(admin),
	)
	if h.log, err = os.CreateTemp("", "loadtest-hydra-*.log"); err != nil {
		return nil, fmt.Errorf("hydra log: %w", err)
	}
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	if err := h.cmd.Start(); err != nil {
		h.log.Close()
		return nil, fmt.Errorf("start hydra %s: %w", bin, err)
	}
	if err := h.waitReady(ctx, time.Minute); err != nil {
		stop(h.cmd)
		h.log.Close()
		return nil, fmt.Errorf("%w (its output: %s)", err, h.log.Name())
	}
	return h, nil
}

// close stops Hydra and removes its log.
func (h *hydra) close() {
	stop(h.cmd)
	h.log.Close()
	os.Remove(h.log.Name())
}

// tokenURL is Hydra's OAuth 2.0 token endpoint.
func (h *hydra) tokenURL() string { return h.public + "/oauth2/token" }

// createClient registers a client_credentials client with a
// client_secret_basic secret through the admin API.
func (h *hydra) createClient(id, secret string) error {
	body := fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}`, id, secret)
	var out struct {
		ClientID string `json:"client_id"`
	}
	if err := call(http.MethodPost, h.admin+"/admin/clients", http.Header{"Content-Type": {"application/json"}}, body, &out); err != nil {
		return fmt.Errorf("create hydra client: %w", err)
	}
	if out.ClientID != id {
		return fmt.Errorf("create hydra client: got client_id %q, want %q", out.ClientID, id)
	}
	return nil
}

// waitReady polls the admin port's /health/ready until it answers 200, the
// process exits or within passes.
func (h *hydra) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.admin+"/health/ready", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if f, err := statFields(h.cmd.Process.Pid); err != nil || f[0] == "Z" {
			return errors.New("hydra exited before it was ready")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hydra not ready within %s", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort is a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
