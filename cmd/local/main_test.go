package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/apptest"
	"github.com/partnerapi/partner-api/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// server builds and starts the local server as `make run` does, with extra
// environment, and returns its base URL and everything it printed so far.
func server(t *testing.T, env ...string) (base string, output func() string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	suffix := uuid.NewString()[:8]
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{
		"PORT=" + port, "TABLE_NAME=local-" + suffix,
		"KMS_KEY_PS256=alias/local-" + suffix + "-ps256",
		"KMS_KEY_ES384=alias/local-" + suffix + "-es384",
		"KMS_KEY_ES512=alias/local-" + suffix + "-es512",
	}, env...)...)
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	printed := &apptest.SyncBuffer{} // written by the reader goroutine, read by the test
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = printed.Write([]byte(sc.Text() + "\n"))
			if strings.HasPrefix(sc.Text(), "Ctrl-C stops") {
				close(ready)
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server exit after Ctrl-C: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("server did not stop within 15 s of Ctrl-C")
		}
	})
	select {
	case <-ready:
	case <-time.After(90 * time.Second):
		t.Fatalf("server not ready after 90 s:\n%s", printed.String())
	}
	return "http://127.0.0.1:" + port, printed.String
}

func tokenRequest(t *testing.T, base, id, sec string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(sec))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.AccessToken
}

func TestDemoPartner(t *testing.T) {
	base, output := server(t)
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(output())
	if m == nil {
		t.Fatalf("no demo credentials printed:\n%s", output())
	}
	status, tok := tokenRequest(t, base, "demo-partner", m[1])
	if status != 200 || tok == "" {
		t.Fatalf("token with the printed credentials: status %d", status)
	}
	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct{ Alg string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) != 3 {
		t.Errorf("JWKS: %d keys, %v; want 3", len(jwks.Keys), err)
	}
}

func TestLocalPartners(t *testing.T) {
	base, output := server(t, "LOCAL_PARTNERS=acme-1:first-secret, globex-2:second-secret")
	if strings.Contains(output(), "first-secret") {
		t.Error("the server printed a secret given in LOCAL_PARTNERS")
	}
	for id, sec := range map[string]string{"acme-1": "first-secret", "globex-2": "second-secret"} {
		if status, _ := tokenRequest(t, base, id, sec); status != 200 {
			t.Errorf("token for %s: status %d, want 200", id, status)
		}
	}
	if status, _ := tokenRequest(t, base, "demo-partner", "x"); status != 401 {
		t.Errorf("demo partner exists although LOCAL_PARTNERS is set: status %d", status)
	}
}
