// Package lambdaruntime is a fake of the AWS Lambda Runtime API (version
// 2018-06-01) for tests: it serves events on loopback to a function process,
// such as a built bootstrap binary started with AWS_LAMBDA_RUNTIME_API set to
// Server.Addr, one at a time as Lambda does, and hands back what the function
// answered.
//
// It implements the routes a runtime calls, as documented in
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html:
//
//	GET  /2018-06-01/runtime/invocation/next           long poll for the next event
//	POST /2018-06-01/runtime/invocation/{id}/response  the invocation's result
//	POST /2018-06-01/runtime/invocation/{id}/error     the invocation's error
//	POST /2018-06-01/runtime/init/error                the function failed to start
//
// and nothing of the platform around them: no timeout is enforced (the
// deadline header is only announced), no extension API, no freezing.
package lambdaruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// MaxPayloadBytes is Lambda's limit on a synchronous invocation's response.
const MaxPayloadBytes = 6 << 20

// Options configure a Server.
type Options struct {
	// FunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	FunctionARN string
	// Timeout is the function timeout announced in each invocation's
	// Lambda-Runtime-Deadline-Ms (30 s when zero).
	Timeout time.Duration
}

// Result is a function's answer to one invocation.
type Result struct {
	// RequestID is the Lambda-Runtime-Aws-Request-Id of the invocation.
	RequestID string
	// Payload is the body posted to .../response; nil when Err is set.
	Payload []byte
	// Err is the body posted to .../error; nil on success.
	Err *Error
}

// Error is an error a function reported, as it posted it.
type Error struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
	// Raw is the whole body the function posted.
	Raw []byte `json:"-"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Type, e.Message) }

// Server is a running fake Runtime API on 127.0.0.1.
type Server struct {
	opts    Options
	srv     *httptest.Server
	queue   chan *invocation // unbuffered: an event is handed to a waiting next
	done    chan struct{}    // closed by Close
	initErr chan struct{}    // closed on the first init error
	once    sync.Once

	mu       sync.Mutex
	pending  map[string]*invocation
	initFail *Error
}

type invocation struct {
	id      string
	traceID string
	payload []byte
	result  chan Result // buffered: one answer
}

// NewServer starts a Runtime API on a free loopback port. Close it when done.
func NewServer(opts Options) *Server {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	s := &Server{
		opts:    opts,
		queue:   make(chan *invocation),
		done:    make(chan struct{}),
		initErr: make(chan struct{}),
		pending: map[string]*invocation{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", s.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", s.answer(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", s.answer(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", s.initError)
	s.srv = httptest.NewServer(mux)
	return s
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API: host and port, no scheme.
func (s *Server) Addr() string { return s.srv.Listener.Addr().String() }

// Close ends pending long polls and stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.Close()
}

// Invoke hands payload to the function's next poll and waits for its answer.
// An error the function reported for the invocation is Result.Err; Invoke
// itself fails only when no answer comes: the function reported an init
// error (an *Error), the server was closed, or ctx ended (its cause).
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	inv := &invocation{id: uuid.NewString(), traceID: traceID(), payload: payload, result: make(chan Result, 1)}
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("lambdaruntime: function did not poll for the event: %w", context.Cause(ctx))
	case <-s.initErr:
		return Result{}, fmt.Errorf("lambdaruntime: function failed to initialize: %w", s.initFailure())
	case <-s.done:
		return Result{}, errors.New("lambdaruntime: server closed")
	}
	select {
	case r := <-inv.result:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("lambdaruntime: no answer to invocation %s: %w", inv.id, context.Cause(ctx))
	case <-s.done:
		return Result{}, errors.New("lambdaruntime: server closed")
	}
}

// next serves the next event, waiting until Invoke offers one.
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	case <-s.done:
		http.Error(w, "runtime API shutting down", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.pending[inv.id] = inv
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(s.opts.Timeout).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", s.opts.FunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

// answer records the response or error posted for an invocation.
func (s *Server) answer(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.mu.Lock()
		inv := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if inv == nil {
			writeStatus(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in progress has id "+id)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayloadBytes))
		if err != nil {
			inv.result <- Result{RequestID: id, Err: &Error{Type: "Function.ResponseSizeTooLarge", Message: err.Error()}}
			writeStatus(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", err.Error())
			return
		}
		res := Result{RequestID: id, Payload: body}
		if isError {
			res = Result{RequestID: id, Err: parseError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))}
		}
		inv.result <- res
		writeStatus(w, http.StatusAccepted, "", "")
	}
}

// initError records that the function failed to start.
func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayloadBytes))
	e := parseError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	s.mu.Lock()
	first := s.initFail == nil
	if first {
		s.initFail = e
	}
	s.mu.Unlock()
	if first {
		close(s.initErr)
	}
	writeStatus(w, http.StatusAccepted, "", "")
}

func (s *Server) initFailure() *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initFail
}

// parseError reads an error body ({"errorMessage":..,"errorType":..}); a body
// that is not such JSON becomes the message.
func parseError(body []byte, headerType string) *Error {
	e := &Error{}
	if err := json.Unmarshal(body, e); err != nil {
		e = &Error{Message: string(body)}
	}
	e.Raw = body
	if e.Type == "" {
		e.Type = headerType
	}
	return e
}

// writeStatus answers a runtime's POST: {"status":"OK"} on success, else an
// error body as the Runtime API sends it.
func writeStatus(w http.ResponseWriter, code int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if errorType == "" {
		io.WriteString(w, `{"status":"OK"}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"errorType": errorType, "errorMessage": message})
}

// traceID is an X-Ray trace header like Lambda's: a root id of the current
// time and 96 random bits, not sampled.
func traceID() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:]))
}
