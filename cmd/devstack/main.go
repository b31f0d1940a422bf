// Command devstack runs a command with DynamoDB Local and moto's KMS server
// started for it, and stops them when the command ends:
//
//	go run ./cmd/devstack -- go test ./...
//
// Emulators are started only for services whose AWS_ENDPOINT_URL* is unset,
// so the same command runs against LocalStack when those variables point there.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/partnerapi/partner-api/internal/devstack"
)

func main() {
	os.Exit(run())
}

func run() int {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: devstack -- COMMAND [ARG...]")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	needDynamo, needKMS := devstack.Needed()
	stack, err := devstack.Start(ctx, devstack.Options{DynamoDB: needDynamo, KMS: needKMS, Logger: logger})
	if err != nil {
		logger.Error("start emulators", "err", err)
		return 1
	}
	defer stack.Stop()

	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), stack.Env()...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() > 0 {
			return exit.ExitCode()
		}
		logger.Error("run command", "err", err)
		return 1
	}
	return 0
}
