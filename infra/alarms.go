package main

import (
	"log/slog"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/usage"
)

// The metric filters read the members the Lambda logger writes
// (logging.Lambda: "message", "level", ...) and the messages the code logs,
// from the same constants, so a renamed key or message cannot leave a
// filter counting nothing; the infra tests match every filter against
// lines the production logger writes through the code that logs them.
var (
	// KMSErrorFilter matches the log line of a failed KMS call: the
	// functions log failures at level ERROR with the cause in "err", and
	// the AWS SDK names the service in it ("operation error KMS: Sign,
	// ..."): a Sign failing while a token is issued (500), or GetPublicKey
	// failing at a cold start (app.StartFailedMessage). CloudWatch has no
	// KMS error metric of its own, so this filter is it.
	KMSErrorFilter = `{ ($.` + logging.LambdaLevelKey + ` = "` + slog.LevelError.String() + `") && ($.` + errKey + ` = "*operation error KMS*") }`
	// MeteringFailureFilter matches the line a function logs when a usage
	// counter could not be written (the request itself still succeeded):
	// each is a count that may be missing from a partner's bill.
	MeteringFailureFilter = `{ $.` + logging.LambdaMessageKey + ` = "` + usage.FailedMessage + `" }`
)

// errKey is the member holding an error's text on the service's log lines
// (problem.Write, oautherr.Write, the start-up failure).
const errKey = "err"

// alarmPeriod is the period of every alarm's metric.
var alarmPeriod = awscdk.Duration_Minutes(jsii.Number(5))

// NewAlarms creates the stack's alarms: the API's 5xx rate, each function's
// errors and throttles, DynamoDB throttling, KMS failures and usage
// metering failures. Every alarm notifies the alarm topic (alarmTopic),
// on ALARM and on OK.
func NewAlarms(scope constructs.Construct, cfg StageConfig, api *API, table awsdynamodb.Table, fns []*GroupFunction, topic awssns.ITopic) []awscloudwatch.Alarm {
	c := constructs.NewConstruct(scope, jsii.String("Alarms"))
	prefix := *awscdk.Stack_Of(scope).StackName() + "-"
	namespace := "PartnerAPI/" + cfg.Stage
	var alarms []awscloudwatch.Alarm
	add := func(id string, props *awscloudwatch.AlarmProps) {
		props.AlarmName = jsii.String(prefix + id)
		props.TreatMissingData = awscloudwatch.TreatMissingData_NOT_BREACHING
		if props.ComparisonOperator == "" {
			props.ComparisonOperator = awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
		}
		alarms = append(alarms, awscloudwatch.NewAlarm(c, jsii.String(id), props))
	}

	// 5xx rate, once there is enough traffic for a rate to mean something;
	// below that the function Errors and KMS alarms still catch outages.
	stage := api.RestAPI.DeploymentStage()
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: alarmPeriod}
	add("api-5xx-rate", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("More than 1% of API requests answered 5xx (2 of 3 five-minute periods with at least 20 requests)."),
		Metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("IF(requests >= 20, 100 * errors / requests, 0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"errors":   stage.MetricServerError(sum),
				"requests": stage.MetricCount(sum),
			},
			Label:  jsii.String("5xx rate (%)"),
			Period: alarmPeriod,
		}),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(3),
		DatapointsToAlarm:  jsii.Number(2),
	})

	// Errors are invocation failures (a crash or a failed cold start); a
	// handled error is a 4xx/5xx response and not counted here, so one is
	// worth a look. Throttles mean the account's concurrency ran out.
	var kmsFilters int
	for _, fn := range fns {
		name := fn.Group.Name
		add(name+"-errors", &awscloudwatch.AlarmProps{
			AlarmDescription:  jsii.String("The " + name + " function failed invocations (crash, timeout or failed start)."),
			Metric:            fn.Function.MetricErrors(sum),
			Threshold:         jsii.Number(1),
			EvaluationPeriods: jsii.Number(1),
		})
		add(name+"-throttles", &awscloudwatch.AlarmProps{
			AlarmDescription:  jsii.String("The " + name + " function was throttled: the account's Lambda concurrency is exhausted."),
			Metric:            fn.Function.MetricThrottles(sum),
			Threshold:         jsii.Number(1),
			EvaluationPeriods: jsii.Number(1),
		})
		if fn.Group.HTTP() {
			awslogs.NewMetricFilter(c, jsii.String(groupID(name)+"KmsErrors"), &awslogs.MetricFilterProps{
				LogGroup:        fn.LogGroup,
				FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(KMSErrorFilter)),
				MetricNamespace: jsii.String(namespace),
				MetricName:      jsii.String("KMSErrors"),
				MetricValue:     jsii.String("1"),
			})
			awslogs.NewMetricFilter(c, jsii.String(groupID(name)+"MeteringFailures"), &awslogs.MetricFilterProps{
				LogGroup:        fn.LogGroup,
				FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(MeteringFailureFilter)),
				MetricNamespace: jsii.String(namespace),
				MetricName:      jsii.String("MeteringFailures"),
				MetricValue:     jsii.String("1"),
			})
			kmsFilters++
		}
	}
	if kmsFilters > 0 {
		add("usage-metering-failures", &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("Usage counters could not be written: some tokens or API calls may be missing from the bill."),
			Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(namespace), MetricName: jsii.String("MeteringFailures"),
				Statistic: jsii.String("Sum"), Period: alarmPeriod,
			}),
			Threshold:         jsii.Number(1),
			EvaluationPeriods: jsii.Number(1),
		})
	}
	if kmsFilters > 0 {
		add("kms-errors", &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("KMS calls failed (Sign or GetPublicKey: key disabled or pending deletion, access denied, throttled)."),
			Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(namespace), MetricName: jsii.String("KMSErrors"),
				Statistic: jsii.String("Sum"), Period: alarmPeriod,
			}),
			Threshold:         jsii.Number(1),
			EvaluationPeriods: jsii.Number(1),
		})
	}

	// Throttle events of the table and its index. The SDK retries isolated
	// ones; sustained throttling surfaces as 503s, so alarm on 10 in 5 min.
	throttle := func(metric string, index bool) awscloudwatch.IMetric {
		dims := map[string]*string{"TableName": table.TableName()}
		if index {
			dims["GlobalSecondaryIndexName"] = jsii.String(store.IndexGSI1)
		}
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/DynamoDB"), MetricName: jsii.String(metric),
			DimensionsMap: &dims, Statistic: jsii.String("Sum"), Period: alarmPeriod,
		})
	}
	add("dynamodb-throttles", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("DynamoDB throttled reads or writes on the table or its index."),
		Metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("FILL(tr, 0) + FILL(tw, 0) + FILL(ir, 0) + FILL(iw, 0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"tr": throttle("ReadThrottleEvents", false),
				"tw": throttle("WriteThrottleEvents", false),
				"ir": throttle("ReadThrottleEvents", true),
				"iw": throttle("WriteThrottleEvents", true),
			},
			Label:  jsii.String("throttle events"),
			Period: alarmPeriod,
		}),
		Threshold:         jsii.Number(10),
		EvaluationPeriods: jsii.Number(1),
	})

	if topic != nil {
		action := awscloudwatchactions.NewSnsAction(topic)
		for _, a := range alarms {
			a.AddAlarmAction(action)
			a.AddOkAction(action)
		}
	}
	return alarms
}

// NewAlarmTopic is the SNS topic every alarm notifies: the one context
// alarmTopicArn names, or one created with alarmEmail subscribed (created
// is then that topic); nil in a dev stage with neither (ConfigFromContext
// refuses prod without one).
func NewAlarmTopic(scope constructs.Construct, cfg StageConfig) (topic awssns.ITopic, created awssns.Topic) {
	switch {
	case cfg.AlarmTopicARN != "":
		return awssns.Topic_FromTopicArn(scope, jsii.String("AlarmTopic"), jsii.String(cfg.AlarmTopicARN)), nil
	case cfg.AlarmEmail != "":
		t := awssns.NewTopic(scope, jsii.String("AlarmTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("Partner API " + cfg.Stage + " alarms"),
			EnforceSSL:  jsii.Bool(true),
		})
		awssns.NewSubscription(scope, jsii.String("AlarmEmail"), &awssns.SubscriptionProps{
			Topic:    t,
			Protocol: awssns.SubscriptionProtocol_EMAIL,
			Endpoint: jsii.String(cfg.AlarmEmail),
		})
		return t, t
	default:
		return nil, nil
	}
}
