// Command infra is the Partner API's CDK app. The CDK CLI runs it from the
// repository root (cdk.json: "app": "go run ./infra"):
//
//	npx cdk synth  -c stage=dev
//	npx cdk deploy -c stage=prod -c issuerUrl=https://api.example.com
//
// It deploys the endpoint groups that have code under functions/ (see
// Catalog), each from the bootstrap that `make build` leaves in
// dist/<group>/. infra/README.md is the operator's guide.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	status := 0
	defer func() { os.Exit(status) }() // runs after jsii.Close
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		status = 1
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := ConfigFromContext(app)
	if err != nil {
		return err
	}
	groups, err := DiscoverGroups("functions")
	if err != nil {
		return err
	}
	var missing []error
	for _, g := range groups {
		if _, err := os.Stat(filepath.Join("dist", g, "bootstrap")); err != nil {
			missing = append(missing, fmt.Errorf("dist/%s/bootstrap: %w", g, err))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return fmt.Errorf("%w\nbuild the functions first: make build", err)
	}

	NewPartnerAPIStack(app, StackName(cfg.Stage), &PartnerAPIStackProps{
		StackProps: awscdk.StackProps{Env: environment()},
		Config:     cfg,
		Groups:     groups,
		Code: func(group string) awslambda.Code {
			return awslambda.Code_FromAsset(jsii.String(filepath.Join("dist", group)), nil)
		},
	})
	AddNagChecks(app)
	app.Synth(nil)
	return nil
}

// environment is the account and region the CDK CLI resolved from the
// caller's credentials and profile (nothing is hard-coded); nil, an
// environment-agnostic stack, when run without them.
func environment() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: &account, Region: &region}
}
