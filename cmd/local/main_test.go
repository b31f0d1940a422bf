package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// local is a running local server.
type local struct {
	base    string
	output  func() string // everything it printed so far
	cmd     *exec.Cmd
	exited  chan struct{} // closed when it has exited, with waitErr set
	waitErr error
}

// server builds and starts the local server as `make run` does, on a free
// port it picks itself (PORT=0), with extra environment. Cleanup stops it
// with Ctrl-C (SIGINT) and expects a clean exit.
func server(t *testing.T, env ...string) *local {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	suffix := uuid.NewString()[:8]
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{
		"PORT=0", "TABLE_NAME=local-" + suffix,
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
	s := &local{output: printed.String, cmd: cmd, exited: make(chan struct{})}
	ready := make(chan string, 1)
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		var base string
		for sc.Scan() {
			_, _ = printed.Write([]byte(sc.Text() + "\n"))
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				base = m[1]
			}
			if strings.HasPrefix(sc.Text(), "Ctrl-C stops") {
				ready <- base
			}
		}
		s.waitErr = cmd.Wait() // after the pipe is drained, as exec requires
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
			if s.waitErr != nil {
				t.Errorf("server exit after Ctrl-C: %v\n%s", s.waitErr, printed.String())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("server did not stop within 20 s of Ctrl-C")
		}
	})
	select {
	case s.base = <-ready:
	case <-s.exited:
		t.Fatalf("server exited before it was ready (%v):\n%s", s.waitErr, printed.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("server not ready after 90 s:\n%s", printed.String())
	}
	if s.base == "" {
		t.Fatalf("no listening address printed:\n%s", printed.String())
	}
	return s
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
	srv := server(t)
	base := srv.base
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(srv.output())
	if m == nil {
		t.Fatalf("no demo credentials printed:\n%s", srv.output())
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
	srv := server(t, "LOCAL_PARTNERS=acme-1:first-secret, globex-2:second-secret")
	base := srv.base
	if strings.Contains(srv.output(), "first-secret") {
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

// TestShutdownFinishesRequestsInFlight sends Ctrl-C while a token request is
// half sent: the server stops accepting at once, but answers that request in
// full (DynamoDB Local and moto still up) before it stops the emulators and
// exits cleanly.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	srv := server(t, "LOCAL_PARTNERS=slow-1:a-secret-for-the-slow-request")
	body := "grant_type=client_credentials"
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, srv.base+"/v1/token", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("slow-1", "a-secret-for-the-slow-request")
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{resp.StatusCode, b, err}
	}()
	if _, err := pw.Write([]byte(body[:10])); err != nil { // the handler now waits for the rest
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := srv.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.output(), "Stopping") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown after Ctrl-C:\n%s", srv.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if resp, err := http.Get(srv.base + "/.well-known/jwks.json"); err == nil {
		resp.Body.Close()
		t.Errorf("a new request after Ctrl-C got status %d, want the connection refused", resp.StatusCode)
	}
	select {
	case <-srv.exited:
		t.Fatalf("server exited with a request in flight:\n%s", srv.output())
	default:
	}
	if _, err := pw.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	r := <-done
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(string(r.body), "access_token") {
		t.Fatalf("request in flight: status %d, body %s, error %v; want 200 with a token", r.status, r.body, r.err)
	}
	select {
	case <-srv.exited:
		if srv.waitErr != nil {
			t.Errorf("exit after the request in flight: %v", srv.waitErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after its last request")
	}
}
