// Command local serves every endpoint group on one port, with the routes API
// Gateway has (`make run`). Unless AWS_ENDPOINT_URL* point elsewhere (e.g. at
// LocalStack), it starts DynamoDB Local and moto's KMS first, and stops them
// on exit. It creates the table and keys, and the partners of LOCAL_PARTNERS
// ("id1:secret1,id2:secret2"), or one demo partner whose credentials it prints.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/devstack"
	"github.com/partnerapi/partner-api/shared/localdev"
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

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if os.Getenv("ISSUER_URL") == "" {
		os.Setenv("ISSUER_URL", "http://localhost:"+port)
	}

	needDynamo, needKMS := devstack.Needed()
	stack, err := devstack.Start(ctx, devstack.Options{DynamoDB: needDynamo, KMS: needKMS,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	defer stack.Stop()
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}

	cfg, awsCfg, err := app.LoadConfig(ctx, os.Getenv)
	if err != nil {
		return err
	}
	if err := localdev.Provision(ctx, cfg, awsCfg); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, awsCfg, logging.New(os.Stdout, cfg.LogLevel))
	if err != nil {
		return err
	}
	creds, err := partners(ctx, a.Admin(), os.Getenv("LOCAL_PARTNERS"))
	if err != nil {
		return err
	}
	mux, err := a.Mux()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	base := "http://" + l.Addr().String()
	fmt.Fprintf(os.Stderr, "\nPartner API listening on %s (issuer %s)\n%s\nCtrl-C stops the server and the emulators it started.\n\n", base, cfg.IssuerURL, creds)
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// partners creates the partners of spec ("id:secret,..."), or the demo
// partner with a new secret, and returns text telling how to use them.
func partners(ctx context.Context, svc *admin.Service, spec string) (string, error) {
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
		return fmt.Sprintf("Demo partner (LOCAL_PARTNERS unset):\n  client_id:     %s\n  client_secret: %s\nTry:\n  curl -u %s:%s -d grant_type=client_credentials http://localhost:%s/v1/token\n",
			resp.PartnerID, resp.ClientSecret, resp.PartnerID, resp.ClientSecret, portOf()), nil
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

func portOf() string {
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}
