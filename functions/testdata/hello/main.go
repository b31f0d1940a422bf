// Command hello is the yardstick of the functions' cold start (issue 12):
// a Go Lambda function that does nothing, built and run exactly as the
// functions are (TestColdStart).
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(func() (string, error) { return "hello", nil })
}
