// Command loadtest drives the local stack (`make loadtest`): it builds and
// starts cmd/local, the server `make run` starts (with DynamoDB Local and
// moto), and for each scenario sends requests for -duration with
// -concurrency workers, through vegeta as a library. It prints per scenario
// the successful requests per second, p50 and p99 latency, the errors, and
// the CPU milliseconds per request of the server process and of each
// emulator, read from /proc/<pid>/stat before and after the scenario.
//
// The baseline scenario is the floor of issue 12's CPU budget: the minimal
// ES384 token server of internal/tokenbaseline, run as a process of its own
// and driven the same way. The hydra-token scenario is issue 12's yardstick:
// an Ory Hydra binary named by -hydra (or HYDRA_BIN) runs with its defaults
// and in-memory SQLite, and its token endpoint is driven the same way (see
// hydra.go); without a binary the scenario is skipped.
//
// -cpus pins the server processes (cmd/local with the emulators it starts,
// the baseline server, Hydra) to a CPU list with taskset, and -client-cpus
// pins the load test itself, so that each server gets one core as in the
// issue's comparison; -emulator-cpus moves the emulators off the server's
// CPUs, so that cmd/local's CPU is not measured while it shares a core with
// DynamoDB Local.
//
// By default the workers send as fast as the servers answer, so each server
// is measured at its own highest rate. -rate offers every scenario the same
// requests per second instead: a server's CPU per request depends on how
// busy it is (an idle server pays a wake-up per request), so servers are
// compared at equal load this way.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/partnerapi/partner-api/internal/tokenbaseline"
)

// baselineEnv makes this binary serve the baseline token server.
const baselineEnv = "LOADTEST_BASELINE"

func main() {
	if os.Getenv(baselineEnv) != "" {
		if err := serveBaseline(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest baseline:", err)
			os.Exit(1)
		}
		return
	}
	duration := flag.Duration("duration", 15*time.Second, "how long each scenario runs")
	concurrency := flag.Int("concurrency", 16, "concurrent workers (and connections) per scenario")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured load before each scenario")
	only := flag.String("scenarios", "partner-token,client-token,client-token-chosen,get-organisation,introspect,baseline-token,hydra-token", "comma-separated scenarios to run")
	hydraBin := flag.String("hydra", os.Getenv("HYDRA_BIN"), "Ory Hydra binary for the hydra-token scenario (default $HYDRA_BIN; `make hydra` builds one); empty skips it")
	cpus := flag.String("cpus", "", "taskset CPU list for the server processes (cmd/local and its emulators, baseline, Hydra), e.g. 0; empty leaves them unpinned")
	clientCPUs := flag.String("client-cpus", "", "taskset CPU list for the load test itself, e.g. 1; empty leaves it unpinned")
	emulatorCPUs := flag.String("emulator-cpus", "", "taskset CPU list for DynamoDB Local and moto, e.g. 1; empty leaves them where -cpus put them")
	rate := flag.Int("rate", 0, "requests per second offered to every scenario; 0 sends as fast as the workers get answers")
	flag.Parse()
	cfg := config{
		duration: *duration, warmup: *warmup, concurrency: *concurrency, scenarios: strings.Split(*only, ","),
		hydra: *hydraBin, cpus: *cpus, clientCPUs: *clientCPUs, emulatorCPUs: *emulatorCPUs, rate: *rate,
	}
	if cfg.duration <= 0 || cfg.rate < 0 {
		fmt.Fprintln(os.Stderr, "loadtest: -duration must be positive and -rate not negative")
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// Credentials of the load test's partner (cmd/local's demo partner, whose
// generated secret follows demoSecretPrefix in its output) and baseline
// client.
const (
	partnerID        = "demo-partner"
	demoSecretPrefix = "  client_secret: "
	baselineID       = "baseline-client"
)

// config is what the flags choose.
type config struct {
	duration, warmup time.Duration
	concurrency      int
	scenarios        []string
	hydra            string // Hydra binary; empty skips hydra-token
	cpus             string // taskset CPU list for the servers; empty: unpinned
	clientCPUs       string // taskset CPU list for this process; empty: unpinned
	emulatorCPUs     string // taskset CPU list for the emulators; empty: as -cpus
	rate             int    // requests per second; 0: as fast as answered
}

// emulators is where the emulators run: -emulator-cpus, else with cmd/local.
func (c config) emulators() string {
	if c.emulatorCPUs != "" {
		return c.emulatorCPUs
	}
	return c.cpus
}

func run(cfg config) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := pinSelf(cfg.clientCPUs); err != nil {
		return err
	}
	secret := randomHex()
	dir, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "local")
	build := exec.Command("go", "build", "-o", bin, "./cmd/local")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build cmd/local: %w", err)
	}
	// The demo partner (LOCAL_PARTNERS unset): created, as partners are,
	// with a generated secret, printed after the listening line.
	server, base, partnerSecret, err := start(ctx, cfg.cpus, bin, []string{"PORT=0", "LOCAL_PARTNERS="}, "Partner API listening on ", demoSecretPrefix)
	if err != nil {
		return err
	}
	defer stop(server)

	s, err := setUp(base, partnerSecret)
	if err != nil {
		return err
	}
	emus := emulators(server.Process.Pid)
	for _, e := range emus {
		if err := pin(cfg.emulatorCPUs, e.pid); err != nil {
			return err
		}
	}
	procs := append([]proc{{name: "server", pid: server.Process.Pid}}, emus...)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "load: %d workers at %s, %s per scenario after %s of warm-up; processes: %v; servers on CPUs %q, emulators on CPUs %q, load test on CPUs %q\n",
		cfg.concurrency, rateText(cfg.rate), cfg.duration, cfg.warmup, procs, orAll(cfg.cpus), orAll(cfg.emulators()), orAll(cfg.clientCPUs))
	var rows []row
	for _, name := range cfg.scenarios {
		targets, ps, closeFn, err := ownServer(ctx, cfg, self, name, secret)
		if errors.Is(err, errSkipped) {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if targets == nil {
			var ok bool
			if targets, ok = s.targets[name]; !ok {
				return fmt.Errorf("unknown scenario %q", name)
			}
			ps = procs
		}
		rows = append(rows, measure(cfg, name, targets, ps))
		closeFn()
	}
	print(os.Stdout, rows, cfg)
	return nil
}

// errSkipped marks a scenario that cannot run here; the reason follows it.
var errSkipped = errors.New("scenario skipped")

// ownServer starts the server of a scenario that has a process of its own
// (baseline-token, hydra-token) and returns its targets, the process to
// measure and how to stop it. For the stack's scenarios it returns no
// targets and a no-op.
func ownServer(ctx context.Context, cfg config, self, name, secret string) ([]vegeta.Target, []proc, func(), error) {
	switch name {
	case "baseline-token":
		b, base, _, err := start(ctx, cfg.cpus, self, []string{baselineEnv + "=" + secret}, "baseline listening on ", "")
		if err != nil {
			return nil, nil, nil, err
		}
		return tokenTargets(base+"/v1/token", baselineID, secret), []proc{{name: "server", pid: b.Process.Pid}}, func() { stop(b) }, nil
	case "hydra-token":
		if cfg.hydra == "" {
			return nil, nil, nil, fmt.Errorf("%w: no Hydra binary (-hydra or HYDRA_BIN; `make hydra` builds one)", errSkipped)
		}
		h, err := startHydra(ctx, cfg.cpus, cfg.hydra)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := h.createClient(hydraClientID, secret); err != nil {
			h.close()
			return nil, nil, nil, err
		}
		if _, err := token(h.tokenURL(), hydraClientID, secret); err != nil {
			h.close()
			return nil, nil, nil, fmt.Errorf("hydra: %w", err)
		}
		return tokenTargets(h.tokenURL(), hydraClientID, secret), []proc{{name: "server", pid: h.cmd.Process.Pid}}, h.close, nil
	}
	return nil, nil, func() {}, nil
}

// measure runs the warm-up (none when it is 0: vegeta reads a zero duration
// as "forever") and then the measured load against targets, reading ps's CPU
// time around the measured part.
func measure(cfg config, name string, targets []vegeta.Target, ps []proc) row {
	if cfg.warmup > 0 {
		attack(targets, cfg.warmup, cfg.concurrency, cfg.rate, name+"-warmup")
	}
	before := cpu(ps)
	m := attack(targets, cfg.duration, cfg.concurrency, cfg.rate, name)
	after := cpu(ps)
	return newRow(name, m, ps, before, after)
}

// start runs bin with env added (pinned to cpus when not empty) and waits
// for the line beginning with prefix on its standard error, which names its
// URL.
func start(ctx context.Context, cpus, bin string, env []string, prefix, valuePrefix string) (*exec.Cmd, string, string, error) {
	cmd := command(ctx, cpus, bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = nil // the access log: discarded, as Lambda's goes to CloudWatch
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", "", err
	}
	type started struct{ url, value string }
	found := make(chan started, 1)
	go func() {
		var s started
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				s.url, _, _ = strings.Cut(rest, " ")
			} else if rest, ok := strings.CutPrefix(line, valuePrefix); ok && valuePrefix != "" && s.url != "" {
				s.value = strings.TrimSpace(rest)
			}
			if s.url != "" && (valuePrefix == "" || s.value != "") {
				found <- s
				s = started{}
			}
		}
	}()
	select {
	case s := <-found:
		return cmd, s.url, s.value, nil
	case <-time.After(3 * time.Minute):
		stop(cmd)
		return nil, "", "", fmt.Errorf("%s did not start", bin)
	}
}

// command runs bin with args, under `taskset -c cpus` when cpus is not
// empty (taskset execs bin, so the process id stays bin's).
func command(ctx context.Context, cpus, bin string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.CommandContext(ctx, bin, args...)
	}
	return exec.CommandContext(ctx, "taskset", append([]string{"-c", cpus, bin}, args...)...)
}

// pinSelf moves every thread of this process to cpus (new threads inherit
// it); nothing when cpus is empty.
func pinSelf(cpus string) error { return pin(cpus, os.Getpid()) }

// pin moves every thread of process pid to cpus (the threads it starts
// later inherit it); nothing when cpus is empty.
func pin(cpus string, pid int) error {
	if cpus == "" {
		return nil
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pin process %d to CPUs %s: %w: %s", pid, cpus, err, out)
	}
	return nil
}

func rateText(rate int) string {
	if rate == 0 {
		return "the highest rate they reach"
	}
	return strconv.Itoa(rate) + " requests/s"
}

func orAll(cpus string) string {
	if cpus == "" {
		return "all"
	}
	return cpus
}

// stop interrupts cmd (cmd/local then stops its emulators) and waits.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
	}
}

// stack is what the scenarios send.
type stack struct {
	targets map[string][]vegeta.Target
}

// setUp gets a partner token, creates an organisation and a client of it,
// and builds each scenario's requests.
func setUp(base, secret string) (*stack, error) {
	tok, err := token(base+"/v1/token", partnerID, secret)
	if err != nil {
		return nil, err
	}
	bearer := http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
	var org struct {
		ID string `json:"id"`
	}
	if err := call(http.MethodPost, base+"/v1/organisations", bearer,
		`{"name":"Load test","allowed_products":["sign_up"],"allowed_scopes":["openid"]}`, &org); err != nil {
		return nil, fmt.Errorf("create organisation: %w", err)
	}
	var client struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := call(http.MethodPost, base+"/v1/organisations/"+org.ID+"/clients", bearer,
		`{"name":"Load test client","selected_product":"sign_up","return_urls":["https://loadtest.example/callback"],"required_scopes":["openid"]}`, &client); err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	// A client whose secret its partner chose (40 characters: the fast
	// hash, but guessable, so each token also counts against the lock).
	chosen := randomHex()[:40]
	var chosenClient struct {
		ID string `json:"id"`
	}
	if err := call(http.MethodPost, base+"/v1/organisations/"+org.ID+"/clients", bearer,
		`{"name":"Load test chosen-secret client","client_secret":"`+chosen+`","selected_product":"sign_up","return_urls":["https://loadtest.example/callback"],"required_scopes":["openid"]}`, &chosenClient); err != nil {
		return nil, fmt.Errorf("create client with a chosen secret: %w", err)
	}
	return &stack{targets: map[string][]vegeta.Target{
		"partner-token":       tokenTargets(base+"/v1/token", partnerID, secret),
		"client-token":        tokenTargets(base+"/v1/token", client.ID, client.Secret),
		"client-token-chosen": tokenTargets(base+"/v1/token", chosenClient.ID, chosen),
		"get-organisation":    {{Method: http.MethodGet, URL: base + "/v1/organisations/" + org.ID, Header: http.Header{"Authorization": {"Bearer " + tok}}}},
		"introspect":          {{Method: http.MethodPost, URL: base + "/v1/token/introspect", Header: basicHeader(partnerID, secret), Body: []byte("token=" + url.QueryEscape(tok))}},
	}}, nil
}

// tokenTargets is a client credentials grant at tokenURL with HTTP Basic
// client authentication, the request of every token scenario.
func tokenTargets(tokenURL, id, secret string) []vegeta.Target {
	return []vegeta.Target{{Method: http.MethodPost, URL: tokenURL, Header: basicHeader(id, secret), Body: []byte("grant_type=client_credentials")}}
}

// basicHeader is the header of a form POST with HTTP Basic authentication
// as id with secret.
func basicHeader(id, secret string) http.Header {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	(&http.Request{Header: h}).SetBasicAuth(id, secret)
	return h
}

func token(tokenURL, id, secret string) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := call(http.MethodPost, tokenURL, basicHeader(id, secret), "grant_type=client_credentials", &out); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return out.AccessToken, nil
}

func call(method, u string, h http.Header, body string, out any) error {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// attack sends targets round robin for d with c workers, at rate requests
// per second, or at the highest rate they reach when rate is 0.
func attack(targets []vegeta.Target, d time.Duration, c, rate int, name string) *vegeta.Metrics {
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)),
		vegeta.Connections(c), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second))
	var m vegeta.Metrics
	for res := range atk.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{Freq: rate, Per: time.Second}, d, name) {
		m.Add(res)
	}
	m.Close()
	return &m
}

// proc is a process whose CPU time is measured.
type proc struct {
	name string
	pid  int
}

func (p proc) String() string { return fmt.Sprintf("%s=%d", p.name, p.pid) }

// emulators are the DynamoDB Local and moto processes among root's
// descendants (cmd/local starts them).
func emulators(root int) []proc {
	var out []proc
	for _, pid := range descendants(root) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		switch c := string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})); {
		case strings.Contains(c, "DynamoDBLocal"):
			out = append(out, proc{"dynamodb-local", pid})
		case strings.Contains(c, "moto"):
			out = append(out, proc{"moto", pid})
		}
	}
	return out
}

// descendants lists every process below root, from /proc/<pid>/stat's ppid.
func descendants(root int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f, err := statFields(pid); err == nil && len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			parent[pid] = ppid
		}
	}
	var out []int
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// statFields are the fields of /proc/<pid>/stat after the command name:
// state is [0], ppid [1], utime [11], stime [12].
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("malformed stat")
	}
	return strings.Fields(string(b[i+1:])), nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux for
// every architecture Go supports.
const clockTicks = 100

// cpu is each process's user+system CPU time so far.
func cpu(ps []proc) []time.Duration {
	out := make([]time.Duration, len(ps))
	for i, p := range ps {
		f, err := statFields(p.pid)
		if err != nil || len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		out[i] = time.Duration(u+s) * time.Second / clockTicks
	}
	return out
}

// row is one scenario's results.
type row struct {
	name      string
	rate      float64
	p50, p99  time.Duration
	requests  uint64
	errors    uint64
	cpuPerReq map[string]float64 // ms per successful request, by process
}

func newRow(name string, m *vegeta.Metrics, ps []proc, before, after []time.Duration) row {
	ok := uint64(float64(m.Requests)*m.Success + 0.5)
	r := row{
		name: name, rate: m.Throughput, p50: m.Latencies.P50, p99: m.Latencies.P99,
		requests: m.Requests, errors: m.Requests - ok, cpuPerReq: map[string]float64{},
	}
	for i, p := range ps {
		if ok > 0 {
			r.cpuPerReq[p.name] = float64(after[i]-before[i]) / float64(time.Millisecond) / float64(ok)
		}
	}
	return r
}

func print(w io.Writer, rows []row, cfg config) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintf(w, "\n%s per scenario, %d concurrent workers at %s; servers on CPUs %s, emulators on CPUs %s, load test on CPUs %s; CPU in ms per successful request (/proc, %d Hz ticks)\n\n",
		cfg.duration, cfg.concurrency, rateText(cfg.rate), orAll(cfg.cpus), orAll(cfg.emulators()), orAll(cfg.clientCPUs), clockTicks)
	fmt.Fprintln(tw, "| scenario\t req/s\t p50 ms\t p99 ms\t requests\t errors\t server CPU\t DynamoDB Local CPU\t moto CPU\t")
	fmt.Fprintln(tw, "|---\t---\t---\t---\t---\t---\t---\t---\t---\t")
	cell := func(r row, p string) string {
		v, ok := r.cpuPerReq[p]
		if !ok {
			return "-"
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "| %s\t %.0f\t %s\t %s\t %d\t %d\t %s\t %s\t %s\t\n", r.name, r.rate, ms(r.p50), ms(r.p99), r.requests, r.errors,
			cell(r, "server"), cell(r, "dynamodb-local"), cell(r, "moto"))
	}
	_ = tw.Flush()
}

// serveBaseline serves tokenbaseline on a free loopback port, with the
// client secret from the environment, until interrupted.
func serveBaseline() error {
	s, err := tokenbaseline.New(baselineID, os.Getenv(baselineEnv))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "baseline listening on http://%s\n", l.Addr())
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func randomHex() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
