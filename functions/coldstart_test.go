package functions_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ColdStartBudget is how much slower than a do-nothing Go function each
// function may start (issue 12).
const ColdStartBudget = 2.5

// coldStartEvents are the first invocation of each function in
// TestColdStart: a token request for token (it loads and decrypts the
// key ring, reads the credential, signs), a sign-in page for signin (it
// reads the client and renders the page's template), a bearer request for
// the others (they load the published keys, route and check the token).
var coldStartEvents = map[string]string{
	"token":         "token/token-client-secret-basic.json",
	"organisations": "organisations/list.json",
	"clients":       "clients/list.json",
	"authservers":   "authservers/list.json",
	"usage":         "usage/report.json",
	"signin":        "signin/authorize-unknown-client.json",
	"admin":         `{"action":"get_partner","partner_id":"` + eventsPartner + `"}`,
	"hello":         `{}`,
}

// TestColdStart measures each function's cold start, from the process's
// start to its first response through the Runtime API (the init phase and
// the first invocation), against testdata/hello built and run the same way,
// COLDSTART_RUNS times each, round robin; it fails when a function's median
// exceeds ColdStartBudget times hello's. It also reports the CPU time each
// process used until its first response was in (user and system, of the
// emulator too when there is one; it waits less on the machine's other
// load than the elapsed time does) and the bootstraps' sizes. Opt-in (make
// coldstart): a timing under a shared machine's load is not a unit test.
func TestColdStart(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("COLDSTART_RUNS"))
	if runs <= 0 {
		t.Skip("set COLDSTART_RUNS=N (make coldstart) to measure cold starts")
	}
	names := functionNames(t)
	bins := build(t, append(slices.Clone(names), "testdata/hello"))
	env := provision(t)
	all := append(slices.Clone(names), "hello")
	times, cpu := map[string][]time.Duration{}, map[string][]time.Duration{}
	for range runs {
		for _, name := range all {
			payload, ok := coldStartEvents[name]
			if !ok {
				t.Fatalf("no cold start event for %s", name)
			}
			service := env.forFunction(isHTTP(name))
			began := time.Now()
			fn := start(t, name, bins, service)
			fn.invoke(t, payload)
			times[name] = append(times[name], time.Since(began))
			fn.stop(t)
			// Killed right after its answer: its CPU time is its cold start's.
			if ps := fn.cmd.ProcessState; ps != nil {
				cpu[name] = append(cpu[name], ps.UserTime()+ps.SystemTime())
			}
		}
	}
	median := func(d []time.Duration) time.Duration {
		if len(d) == 0 {
			return 0
		}
		s := slices.Sorted(slices.Values(d))
		return s[len(s)/2]
	}
	hello, helloCPU := median(times["hello"]), median(cpu["hello"])
	var b strings.Builder
	fmt.Fprintf(&b, "\n| function | cold start, median of %d (min-max) | × hello | CPU, median (min-max) | × hello | bootstrap size |\n|---|---|---|---|---|---|\n", runs)
	for _, name := range all {
		m, c := median(times[name]), median(cpu[name])
		st, err := os.Stat(filepath.Join(bins.dir, name, "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "| %s | %d ms (%d-%d) | %.2f | %d ms (%d-%d) | %.2f | %.1f MB |\n", name, m.Milliseconds(),
			slices.Min(times[name]).Milliseconds(), slices.Max(times[name]).Milliseconds(), float64(m)/float64(hello),
			c.Milliseconds(), minOf(cpu[name]).Milliseconds(), maxOf(cpu[name]).Milliseconds(), float64(c)/float64(helloCPU),
			float64(st.Size())/1e6)
		if float64(m) > ColdStartBudget*float64(hello) {
			t.Errorf("%s cold start %s is more than %.1f× hello's %s", name, m, ColdStartBudget, hello)
		}
	}
	t.Log(b.String())
}

// minOf and maxOf are slices.Min and slices.Max, 0 for no values (a
// process whose CPU time could not be read).
func minOf(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Min(d)
}

func maxOf(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}
