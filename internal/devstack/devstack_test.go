package devstack

import (
	"net/http"
	"os/exec"
	"strconv"
	"testing"
)

// TestStartOnFreePortRetries starts an "emulator" that exits at once (as one
// whose port was taken does) and checks that the next attempt, on another
// port, is the one used; and that a command that never answers gives up.
func TestStartOnFreePortRetries(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("python3 (which moto needs too): %v", err)
	}
	tests := []struct {
		name      string
		failFirst int
		wantCalls int
		wantOK    bool
	}{
		{"first port taken", 1, 2, true},
		{"every attempt fails", startAttempts, startAttempts, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Stack{}
			defer s.Stop()
			calls := 0
			command := func(port int) *exec.Cmd {
				calls++
				if calls <= tc.failFirst {
					return exec.Command("false")
				}
				return exec.Command("python3", "-m", "http.server", "--bind", "127.0.0.1", strconv.Itoa(port))
			}
			endpoint, err := s.startOnFreePort(t.Context(), nil, command, "/", func(code int) bool { return code == http.StatusOK })
			if (err == nil) != tc.wantOK || calls != tc.wantCalls {
				t.Fatalf("got endpoint %q, error %v after %d starts; want ok %v after %d", endpoint, err, calls, tc.wantOK, tc.wantCalls)
			}
			if tc.wantOK {
				resp, err := http.Get(endpoint + "/")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}
