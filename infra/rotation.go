package main

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/config"
)

// RotationPayload is the admin function's payload the schedule sends: the
// same JSON as events/admin/rotate-signing-keys.json.
func RotationPayload() string {
	b, _ := json.Marshal(admin.Request{Action: admin.ActionRotateSigningKeys})
	return string(b)
}

// NewKeyRotationSchedule invokes the admin function with the rotation
// payload every cfg.KeyRotationDays days (wrapped mode): EventBridge
// Scheduler with a role that may invoke that function only. A rotation adds
// a pending key per algorithm that signs after the key ring's lead time
// (package keyring), so the schedule needs no precise timing; a missed run
// only makes the current keys sign longer.
func NewKeyRotationSchedule(scope constructs.Construct, cfg StageConfig, adminFn *GroupFunction) awsscheduler.CfnSchedule {
	c := constructs.NewConstruct(scope, jsii.String("KeyRotation"))
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("partner-api %s: scheduled signing key rotation", cfg.Stage)),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeAdmin"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: jsii.Strings(*adminFn.Function.FunctionArn()),
	}))
	return awsscheduler.NewCfnSchedule(c, jsii.String("Schedule"), &awsscheduler.CfnScheduleProps{
		Description:        jsii.String(fmt.Sprintf("partner-api %s: rotate the JWT signing keys (admin %s)", cfg.Stage, admin.ActionRotateSigningKeys)),
		ScheduleExpression: jsii.String(fmt.Sprintf("rate(%d days)", cfg.KeyRotationDays)),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		State:              jsii.String("ENABLED"),
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     adminFn.Function.FunctionArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(RotationPayload()),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(3),
				MaximumEventAgeInSeconds: jsii.Number(3600),
			},
		},
	})
}

// tokenRouteThrottle is the method throttle of POST /v1/token in kms mode:
// below the account's KMS quota, since every token is one KMS Sign. In
// wrapped mode the route has the stage's throttle (nil).
func tokenRouteThrottle(cfg StageConfig) (rate, burst float64, ok bool) {
	if cfg.SigningMode != config.SigningKMS {
		return 0, 0, false
	}
	return cfg.TokenThrottleRateLimit, cfg.TokenThrottleBurstLimit, true
}
