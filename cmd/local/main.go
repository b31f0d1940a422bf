// Command local serves every endpoint group on one port, with the routes API
// Gateway has (`make run`). Unless AWS_ENDPOINT_URL* point elsewhere (e.g. at
// LocalStack), it starts DynamoDB Local and moto's KMS first, and stops them
// on exit. It creates the table and keys, and the partners of LOCAL_PARTNERS
// ("id1:secret1,id2:secret2"), or one demo partner whose credentials it prints.
//
// It listens on 127.0.0.1:$PORT (8080; 0 takes a free port, printed). On
// SIGINT or SIGTERM it stops accepting, waits (at most shutdownTimeout) for
// the requests in flight, and only then stops the emulators.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/partnerapi/partner-api/internal/devstack"
	"github.com/partnerapi/partner-api/internal/localdev"
	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups"
	"github.com/partnerapi/partner-api/shared/logging"
)

// demoPartner is the partner created when LOCAL_PARTNERS is unset.
const demoPartner = "demo-partner"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

// Server timeouts: a slow or idle client cannot hold a connection for
// ever; WriteTimeout is above the slowest request (a Lambda's own timeout).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 2 * time.Minute
	// shutdownTimeout bounds the wait for requests in flight on Ctrl-C.
	shutdownTimeout = 10 * time.Second
)

func run() error {
	app.TuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	// Listen first: a port in use fails before any emulator starts, and
	// PORT=0 takes a free port with no race (the listener is the server's).
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	defer l.Close()
	port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if os.Getenv("ISSUER_URL") == "" {
		os.Setenv("ISSUER_URL", "http://localhost:"+port)
	}

	needDynamo, needKMS := devstack.Needed()
	stack, err := devstack.Start(ctx, devstack.Options{DynamoDB: needDynamo, KMS: needKMS,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	// Deferred before the server's shutdown, so it runs after it: the
	// emulators outlive every request in flight.
	defer stack.Stop()
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}

	cfg, awsCfg, err := app.LoadConfig(ctx, os.Getenv)
	if err != nil {
		return err
	}
	logger := logging.New(os.Stdout, cfg.LogLevel)
	awsCfg.Logger = app.SDKLogger(logger)
	if err := localdev.Provision(ctx, cfg, awsCfg); err != nil {
		return err
	}
	a, err := app.Build(ctx, cfg, awsCfg, logger, app.Options{Groups: groups.All()})
	if err != nil {
		return err
	}
	base := "http://localhost:" + port
	creds, err := partners(ctx, a.Admin(), os.Getenv("LOCAL_PARTNERS"), base)
	if err != nil {
		return err
	}
	mux, err := a.Mux()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Fprintf(os.Stderr, "\nPartner API listening on http://%s (issuer %s)\n%s\nCtrl-C stops the server and the emulators it started.\n\n", l.Addr(), cfg.IssuerURL, creds)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C ends the process at once
	fmt.Fprintln(os.Stderr, "Stopping: waiting for requests in flight.")
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// partners creates the partners of spec ("id:secret,..."), or the demo
// partner with a new secret, and returns text telling how to use them.
func partners(ctx context.Context, svc *admin.Service, spec, base string) (string, error) {
	if spec == "" {
		resp, err := svc.Handle(ctx, admin.Request{Action: admin.ActionGet, PartnerID: demoPartner})
		if err == nil && resp.PartnerID != "" {
			resp, err = svc.Handle(ctx, admin.Request{Action: admin.ActionRotate, PartnerID: demoPartner})
		} else {
			resp, err = svc.Handle(ctx, admin.Request{Action: admin.ActionCreate, PartnerID: demoPartner, Name: "Demo partner"})
		}
		if err != nil {
			return "", fmt.Errorf("demo partner: %w", err)
		}
		return fmt.Sprintf("Demo partner (LOCAL_PARTNERS unset):\n  client_id:     %s\n  client_secret: %s\nTry:\n  curl -u %s:%s -d grant_type=client_credentials %s/v1/token\n",
			resp.PartnerID, resp.ClientSecret, resp.PartnerID, resp.ClientSecret, base), nil
	}
	var ids []string
	for _, entry := range strings.Split(spec, ",") {
		id, sec, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			return "", fmt.Errorf("LOCAL_PARTNERS: %q is not id:secret", id)
		}
		if _, err := svc.EnsurePartner(ctx, id, sec); err != nil {
			return "", fmt.Errorf("LOCAL_PARTNERS: partner %q: %w", id, err)
		}
		ids = append(ids, id)
	}
	return fmt.Sprintf("Partners from LOCAL_PARTNERS: %s (secrets as given)\n", strings.Join(ids, ", ")), nil
}
