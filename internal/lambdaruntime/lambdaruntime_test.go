package lambdaruntime_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/lambdaruntime"
)

const arn = "arn:aws:lambda:eu-west-2:123456789012:function:f"

// TestInvoke plays the runtime's side by hand: poll, then answer.
func TestInvoke(t *testing.T) {
	for _, tc := range []struct {
		name    string
		route   string // response or error
		body    string
		header  string // Lambda-Runtime-Function-Error-Type
		want    lambdaruntime.Result
		wantErr *lambdaruntime.Error
	}{
		{name: "response", route: "response", body: `{"ok":true}`, want: lambdaruntime.Result{Payload: []byte(`{"ok":true}`)}},
		{name: "error", route: "error", body: `{"errorMessage":"name: is required","errorType":"ValidationError"}`,
			wantErr: &lambdaruntime.Error{Type: "ValidationError", Message: "name: is required"}},
		{name: "error not JSON", route: "error", body: `boom`, header: "Runtime.Unknown",
			wantErr: &lambdaruntime.Error{Type: "Runtime.Unknown", Message: "boom"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := lambdaruntime.NewServer(lambdaruntime.Options{FunctionARN: arn, Timeout: 3 * time.Second})
			defer s.Close()
			got := invokeAsync(t, s, `{"event":1}`)

			resp, body := do(t, http.MethodGet, s.Addr(), "/2018-06-01/runtime/invocation/next", "", "")
			if resp.StatusCode != http.StatusOK || body != `{"event":1}` {
				t.Fatalf("got next %d %s, want 200 with the event", resp.StatusCode, body)
			}
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			if id == "" {
				t.Errorf("got no Lambda-Runtime-Aws-Request-Id, want one")
			}
			if got := resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"); got != arn {
				t.Errorf("got function ARN %q, want %q", got, arn)
			}
			if got := resp.Header.Get("Lambda-Runtime-Trace-Id"); !strings.HasPrefix(got, "Root=1-") {
				t.Errorf("got trace id %q, want Root=1-...", got)
			}
			ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
			if left := time.Until(time.UnixMilli(ms)); err != nil || left <= 0 || left > 3*time.Second {
				t.Errorf("got deadline %q (%v), want within 3 s", resp.Header.Get("Lambda-Runtime-Deadline-Ms"), err)
			}

			resp, body = do(t, http.MethodPost, s.Addr(), "/2018-06-01/runtime/invocation/"+id+"/"+tc.route, tc.body, tc.header)
			if resp.StatusCode != http.StatusAccepted {
				t.Errorf("got %s status %d %s, want 202", tc.route, resp.StatusCode, body)
			}
			res := <-got
			if res.err != nil {
				t.Fatalf("got Invoke error %v, want none", res.err)
			}
			if res.RequestID != id {
				t.Errorf("got request id %q, want %q", res.RequestID, id)
			}
			if string(res.Payload) != string(tc.want.Payload) {
				t.Errorf("got payload %s, want %s", res.Payload, tc.want.Payload)
			}
			switch {
			case tc.wantErr == nil && res.Err != nil:
				t.Errorf("got error %v, want none", res.Err)
			case tc.wantErr != nil && (res.Err == nil || res.Err.Type != tc.wantErr.Type || res.Err.Message != tc.wantErr.Message):
				t.Errorf("got error %v, want %v", res.Err, tc.wantErr)
			}

			// The invocation is answered: a second answer is refused.
			resp, _ = do(t, http.MethodPost, s.Addr(), "/2018-06-01/runtime/invocation/"+id+"/response", "{}", "")
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("got status %d for a second answer, want 400", resp.StatusCode)
			}
		})
	}
}

func TestInitError(t *testing.T) {
	s := lambdaruntime.NewServer(lambdaruntime.Options{})
	defer s.Close()
	got := invokeAsync(t, s, `{}`)
	resp, _ := do(t, http.MethodPost, s.Addr(), "/2018-06-01/runtime/init/error", `{"errorMessage":"no table","errorType":"Init"}`, "")
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("got init/error status %d, want 202", resp.StatusCode)
	}
	res := <-got
	var fe *lambdaruntime.Error
	if !errors.As(res.err, &fe) || fe.Message != "no table" {
		t.Errorf("got Invoke error %v, want the init error", res.err)
	}
}

func TestInvokeEnds(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		s := lambdaruntime.NewServer(lambdaruntime.Options{})
		defer s.Close()
		cause := errors.New("function exited")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		if _, err := s.Invoke(ctx, []byte(`{}`)); !errors.Is(err, cause) {
			t.Errorf("got %v, want the context's cause", err)
		}
	})
	t.Run("close ends a pending poll", func(t *testing.T) {
		s := lambdaruntime.NewServer(lambdaruntime.Options{})
		polled := make(chan int, 1)
		go func() {
			code := 0 // the poll came after Close: refused
			if resp, err := http.Get("http://" + s.Addr() + "/2018-06-01/runtime/invocation/next"); err == nil {
				resp.Body.Close()
				code = resp.StatusCode
			}
			polled <- code
		}()
		time.Sleep(100 * time.Millisecond) // let the poll arrive
		closed := make(chan struct{})
		go func() { s.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("got Close still blocked after 5 s, want pending polls ended")
		}
		if code := <-polled; code != http.StatusInternalServerError && code != 0 {
			t.Errorf("got poll status %d, want 500", code)
		}
		if _, err := s.Invoke(context.Background(), []byte(`{}`)); err == nil {
			t.Errorf("got Invoke on a closed server to succeed, want an error")
		}
	})
}

type invokeResult struct {
	lambdaruntime.Result
	err error
}

func invokeAsync(t *testing.T, s *lambdaruntime.Server, payload string) <-chan invokeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	ch := make(chan invokeResult, 1)
	go func() {
		r, err := s.Invoke(ctx, []byte(payload))
		ch <- invokeResult{r, err}
	}()
	return ch
}

func do(t *testing.T, method, addr, path, body, errorType string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
